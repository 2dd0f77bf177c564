"""Web-shop clickstream: users in sessions viewing, clicking, adding to cart, buying, and hitting errors.

A fixed number of sessions is open at any event time; each is scheduled on a heap by the event time of its next
action, and after each action waits a log-normal think time. A session that ends is replaced by a new one
(a new or returning user), which keeps the event rate at the target. Product (and so page) popularity is Zipf.
When the target rate is so high that the open sessions would not fit the cap, think times are compressed.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import time
from dataclasses import dataclass, field

import orjson

from producers.generators.base import Event, Record, WeightedChoice, ZipfSampler

DEFAULT_USERS = 50_000
PRODUCTS = 5_000
#: Zipf exponent of product popularity (1.0 to 1.2 is what shop catalogues show).
PRODUCT_ZIPF_S = 1.1
#: Median and log-spread of the think time between two actions of a session, seconds.
THINK_MEDIAN_S = 6.0
THINK_SIGMA = 0.9
MAX_OPEN_SESSIONS = 20_000
#: Probability a session ends after each action (so about 1 / 0.12 ≈ 8 actions a session).
END_PROBABILITY = 0.12
#: Mean pause, seconds, before a new session takes the place of one that ended.
NEW_SESSION_GAP_S = 0.5

ACTIONS = ("page_view", "click", "add_to_cart", "purchase", "error")
ACTION_WEIGHTS = (0.52, 0.28, 0.12, 0.05, 0.03)
REFERRERS = (
    "https://www.google.com/",
    "",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "https://newsletter.example-shop.com/",
    "https://www.bing.com/",
    "https://t.co/",
)
REFERRER_WEIGHTS = (0.45, 0.25, 0.1, 0.08, 0.06, 0.04, 0.02)
DEVICES = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
DEVICE_WEIGHTS = (0.34, 0.31, 0.2, 0.1, 0.05)
COUNTRIES = ("US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "ES", "IT", "NL", "PL", "AU", "MX", "SE")
COUNTRY_WEIGHTS = (0.28, 0.1, 0.09, 0.07, 0.07, 0.06, 0.05, 0.04, 0.04, 0.04, 0.03, 0.03, 0.03, 0.04, 0.03)
ERROR_STATUSES = (404, 500, 502, 503)
ERROR_WEIGHTS = (0.55, 0.25, 0.1, 0.1)
CATEGORIES = ("shoes", "shirts", "bags", "watches", "kitchen", "garden", "toys", "books")
BASE_URL = "https://shop.example.com"
#: Log of the median think time in ms: the mu of its log-normal law.
_THINK_MU = math.log(THINK_MEDIAN_S * 1000.0)
_NEW_SESSION_RATE = 1.0 / (NEW_SESSION_GAP_S * 1000.0)
#: The constant of random.normalvariate's ratio-of-uniforms method, 4 e^-0.5 / sqrt(2).
_NV_MAGICCONST = 4 * math.exp(-0.5) / math.sqrt(2.0)
#: The JSON between the event id and the event time, for each action.
_TYPE_PARTS = {action: f'","event_type":"{action}","event_time":"' for action in ACTIONS}
#: The milliseconds of an event time, for each millisecond.
_MILLIS = [f".{ms:03d}Z" for ms in range(1000)]
#: Per product rank: its page, and its id as a JSON string.
_PRODUCT_URLS = [f"{BASE_URL}/p/product-{p}" for p in range(PRODUCTS)]
_PRODUCT_IDS = [f'"product-{p}"' for p in range(PRODUCTS)]
_CATEGORY_URLS = [f"{BASE_URL}/c/{category}" for category in CATEGORIES]
_HOME = f"{BASE_URL}/"
_CART = f"{BASE_URL}/cart"
_CHECKOUT = f"{BASE_URL}/checkout/complete"


def float_json(value: float) -> str:
    """A float as orjson writes it: ``repr`` where neither uses an exponent (every price), else orjson's own text."""
    text = repr(value)
    return orjson.dumps(value).decode() if "e" in text or "n" in text else text


@dataclass(slots=True)
class _Session:
    session_id: str
    user: int
    device: str
    country: str
    referrer: str
    product: int | None = None
    cart: list[int] = field(default_factory=list)
    #: The partition key and the session's constant JSON around the url and the product, made once.
    user_id: str = field(init=False)
    ids_part: str = field(init=False)
    device_part: str = field(init=False)

    def __post_init__(self) -> None:
        self.user_id = f"user-{self.user:07d}"
        self.ids_part = f'","user_id":"{self.user_id}","session_id":"{self.session_id}","url":"'
        self.device_part = f'","device":"{self.device}","country":"{self.country}","product_id":'


class ClickstreamGenerator:
    """Events keyed by ``user_id``; each session's actions are spaced by think times, sessions interleave."""

    key_field = "user_id"

    def __init__(self, seed: int, start_time_ms: int, events_per_second: float, users: int | None = None) -> None:
        rng = random.Random(seed)  # noqa: S311 - seeded simulation, not security
        self._rng = rng
        self._users = users or DEFAULT_USERS
        # Event ids as base.EventIds makes them (the same draw): ``<16 hex digits>-<sequence>``.
        self._id_head = f'{{"event_id":"{rng.getrandbits(64):016x}-'
        self._ids = itertools.count()
        self._second = -1
        self._second_text = ""
        self._session_prefix = f"s-{rng.getrandbits(32):08x}-"
        self._session_ids = itertools.count()
        #: Product popularity rank r is product ``product-{r}``: rank 0 is the best seller.
        self.product_zipf = ZipfSampler(PRODUCTS, PRODUCT_ZIPF_S, rng)
        self.prices = [round(rng.lognormvariate(3.3, 0.8), 2) for _ in range(PRODUCTS)]
        self._price_texts = [float_json(price) for price in self.prices]
        # Returning users come back more often than others: user popularity is Zipf too, but flatter.
        self._user_zipf = ZipfSampler(self._users, 0.6, rng)
        self._action = WeightedChoice(ACTIONS, ACTION_WEIGHTS, rng)
        self._referrer = WeightedChoice(REFERRERS, REFERRER_WEIGHTS, rng)
        self._device = WeightedChoice(DEVICES, DEVICE_WEIGHTS, rng)
        self._country = WeightedChoice(COUNTRIES, COUNTRY_WEIGHTS, rng)
        self._status = WeightedChoice(ERROR_STATUSES, ERROR_WEIGHTS, rng)
        mean_think_s = THINK_MEDIAN_S * math.exp(THINK_SIGMA**2 / 2)
        # Each open session is a renewal process whose mean gap mixes think times and the short pause before
        # the next session starts in its slot; the target rate needs rate x mean gap sessions.
        mean_gap_s = (1 - END_PROBABILITY) * mean_think_s + END_PROBABILITY * NEW_SESSION_GAP_S
        wanted_sessions = events_per_second * mean_gap_s
        self.open_sessions = max(1, min(MAX_OPEN_SESSIONS, round(wanted_sessions)))
        #: Think times are scaled by this so that ``open_sessions`` sessions make the target rate.
        self.think_scale = self.open_sessions / wanted_sessions
        self._heap: list[tuple[float, int, _Session]] = []
        self._tie = itertools.count()
        for _ in range(self.open_sessions):
            # Start in the steady state: a session is observed part-way through a gap, and long gaps are the more
            # likely to be straddled (a size-biased log-normal), so the stream starts at its steady rate.
            straddled = rng.lognormvariate(math.log(THINK_MEDIAN_S * 1000.0) + THINK_SIGMA**2, THINK_SIGMA)
            first = start_time_ms + rng.random() * straddled * self.think_scale
            heapq.heappush(self._heap, (first, next(self._tie), self._new_session()))

    def _new_session(self) -> _Session:
        return _Session(
            session_id=f"{self._session_prefix}{next(self._session_ids)}",
            user=self._user_zipf(),
            device=self._device(),
            country=self._country(),
            referrer=self._referrer(),
        )

    def next_chunk(self, n: int) -> list[Event]:
        """The next ``n`` events as dicts, parsed back from :meth:`next_records` (one loop, one random stream)."""
        loads = orjson.loads
        events: list[Event] = [loads(value) for _key, value in self.next_records(n)]
        return events

    def next_records(self, n: int) -> list[Record]:
        """The next ``n`` events as ``(user_id, JSON bytes)`` records, built without a dict or a JSON encoder.

        The bytes equal ``orjson.dumps`` of the event (a unit test holds them equal): every string is an ASCII id,
        url, referrer, country or user agent without a character JSON escapes, the prices are orjson's own texts
        (:func:`float_json`). The weighted and Zipf draws are inlined: the same ``random()`` calls, in the same
        order, as :class:`~producers.generators.base.WeightedChoice` and
        :class:`~producers.generators.base.ZipfSampler` make.
        """
        out: list[Record] = []
        append = out.append
        heap, rng = self._heap, self._rng
        rng_random, expovariate, heapreplace = rng.random, rng.expovariate, heapq.heapreplace
        new_session, tie = self._new_session, self._tie
        log, exp, scale = math.log, math.exp, self.think_scale
        bisect_right = bisect.bisect_right
        action = self._action
        actions, action_cum, action_total = action._items, action._cumulative, action._total
        status = self._status
        statuses, status_cum, status_total = status._items, status._cumulative, status._total
        zipf = self.product_zipf
        product_cum, product_total = zipf._cumulative, zipf._total
        prices, price_texts = self.prices, self._price_texts
        product_urls, product_ids, category_urls = _PRODUCT_URLS, _PRODUCT_IDS, _CATEGORY_URLS
        categories = len(CATEGORIES)
        type_parts, millis = _TYPE_PARTS, _MILLIS
        id_head, ids = self._id_head, self._ids
        second, second_text = self._second, self._second_text
        gmtime, strftime = time.gmtime, time.strftime
        for _ in range(n):
            # Peek, then replace the head: one sift per event instead of a pop and a push. The (time, tie) keys
            # are unique, so the order sessions come out in is the same either way.
            at, _tie, s = heap[0]
            at_ms = int(at)
            if at_ms // 1000 != second:
                second = at_ms // 1000
                second_text = strftime("%Y-%m-%dT%H:%M:%S", gmtime(second))
            product = s.product
            kind = "page_view" if product is None else actions[bisect_right(action_cum, rng_random() * action_total)]
            if kind == "purchase" and not s.cart:
                kind = "add_to_cart"
            product_json = "null"
            price_json = "null"
            code = 200
            if kind == "page_view":
                # The landing page carries the external referrer; later views come from inside the shop.
                referrer = s.referrer if product is None else _HOME
                s.product = product = bisect_right(product_cum, rng_random() * product_total)
                url = product_urls[product]
                product_json = product_ids[product]
            elif kind == "click":
                # Every action but a page view has a product: a session's first action is a page view.
                product = product or 0
                url = category_urls[product % categories]
                referrer = product_urls[product]
                product_json = product_ids[product]
            elif kind == "add_to_cart":
                if product is None:
                    product = bisect_right(product_cum, rng_random() * product_total)
                s.cart.append(product)
                price_json = price_texts[product]
                url = _CART
                referrer = product_urls[product]
                product_json = product_ids[product]
            elif kind == "purchase":
                cart = s.cart
                price_json = float_json(round(sum(prices[p] for p in cart), 2))
                product_json = product_ids[cart[-1]]
                cart.clear()
                url = _CHECKOUT
                referrer = _CART
            else:
                code = statuses[bisect_right(status_cum, rng_random() * status_total)]
                url = product_urls[product or 0]
                referrer = _HOME
            append(
                (
                    s.user_id,
                    f"{id_head}{next(ids)}{type_parts[kind]}{second_text}{millis[at_ms % 1000]}{s.ids_part}{url}"
                    f'","referrer":"{referrer}{s.device_part}{product_json},"price":{price_json}'
                    f',"status_code":{code}}}'.encode(),
                )
            )
            if rng_random() < END_PROBABILITY:
                s = new_session()
                at += expovariate(_NEW_SESSION_RATE) * scale
            else:
                # The think time, rng.lognormvariate(_THINK_MU, THINK_SIGMA) inlined: the same draws as
                # random.normalvariate (Kinderman-Monahan), two Python calls fewer per event.
                while True:
                    u1 = rng_random()
                    u2 = 1.0 - rng_random()
                    z = _NV_MAGICCONST * (u1 - 0.5) / u2
                    if z * z / 4.0 <= -log(u2):
                        break
                at += exp(_THINK_MU + z * THINK_SIGMA) * scale
            heapreplace(heap, (at, next(tie), s))
        self._second, self._second_text = second, second_text
        return out
