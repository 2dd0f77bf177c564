"""Web-shop clickstream: users in sessions viewing, clicking, adding to cart, buying, and hitting errors.

A fixed number of sessions is open at any event time; each is scheduled on a heap by the event time of its next
action, and after each action waits a log-normal think time. A session that ends is replaced by a new one
(a new or returning user), which keeps the event rate at the target. Product (and so page) popularity is Zipf.
When the target rate is so high that the open sessions would not fit the cap, think times are compressed.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

from producers.generators.base import Event, EventIds, IsoMillis, WeightedChoice, ZipfSampler

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


@dataclass
class _Session:
    session_id: str
    user: int
    device: str
    country: str
    referrer: str
    product: int | None = None
    cart: list[int] = field(default_factory=list)


class ClickstreamGenerator:
    """Events keyed by ``user_id``; each session's actions are spaced by think times, sessions interleave."""

    key_field = "user_id"

    def __init__(self, seed: int, start_time_ms: int, events_per_second: float, users: int | None = None) -> None:
        rng = random.Random(seed)  # noqa: S311 - seeded simulation, not security
        self._rng = rng
        self._users = users or DEFAULT_USERS
        self._iso = IsoMillis()
        self._ids = EventIds(rng)
        self._session_prefix = f"s-{rng.getrandbits(32):08x}-"
        self._session_ids = itertools.count()
        #: Product popularity rank r is product ``product-{r}``: rank 0 is the best seller.
        self.product_zipf = ZipfSampler(PRODUCTS, PRODUCT_ZIPF_S, rng)
        self.prices = [round(rng.lognormvariate(3.3, 0.8), 2) for _ in range(PRODUCTS)]
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
        out: list[Event] = []
        append = out.append
        heap, rng = self._heap, self._rng
        rng_random, expovariate, heapreplace = rng.random, rng.expovariate, heapq.heapreplace
        act, new_session, tie = self._act, self._new_session, self._tie
        log, exp, scale = math.log, math.exp, self.think_scale
        for _ in range(n):
            # Peek, then replace the head: one sift per event instead of a pop and a push. The (time, tie) keys
            # are unique, so the order sessions come out in is the same either way.
            at, _tie, s = heap[0]
            append(act(s, int(at)))
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
        return out

    def _act(self, s: _Session, at_ms: int) -> Event:
        action = "page_view" if s.product is None else self._action()
        if action == "purchase" and not s.cart:
            action = "add_to_cart"
        product: int | None = None
        price: float | None = None
        status = 200
        if action == "page_view":
            # The landing page carries the external referrer; later views come from inside the shop.
            referrer = s.referrer if s.product is None else f"{BASE_URL}/"
            s.product = product = self.product_zipf()
            url = f"{BASE_URL}/p/product-{product}"
        elif action == "click":
            product = s.product
            url = f"{BASE_URL}/c/{CATEGORIES[(product or 0) % len(CATEGORIES)]}"
            referrer = f"{BASE_URL}/p/product-{product}"
        elif action == "add_to_cart":
            product = s.product if s.product is not None else self.product_zipf()
            s.cart.append(product)
            price = self.prices[product]
            url = f"{BASE_URL}/cart"
            referrer = f"{BASE_URL}/p/product-{product}"
        elif action == "purchase":
            price = round(sum(self.prices[p] for p in s.cart), 2)
            product = s.cart[-1]
            s.cart.clear()
            url = f"{BASE_URL}/checkout/complete"
            referrer = f"{BASE_URL}/cart"
        else:
            status = self._status()
            url = f"{BASE_URL}/p/product-{s.product}"
            referrer = f"{BASE_URL}/"
        return {
            "event_id": self._ids(),
            "event_type": action,
            "event_time": self._iso(at_ms),
            "user_id": f"user-{s.user:07d}",
            "session_id": s.session_id,
            "url": url,
            "referrer": referrer,
            "device": s.device,
            "country": s.country,
            "product_id": None if product is None else f"product-{product}",
            "price": price,
            "status_code": status,
        }
