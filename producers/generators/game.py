"""Mobile-game events: players playing solo matches, scoring points, levelling up; the live leaderboard's source.

Skill follows a Pareto law, so a few players score far more than most and the top of the leaderboard is
stable enough to be interesting but still contested. Activity (how often a player plays) is log-normal and
independent of skill, so a keen average player can still outrank a rare strong one over a short window.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time

import orjson

from producers.generators.base import Event, Record

DEFAULT_PLAYERS = 10_000
#: Pareto shape of skill: with 1.5 the top 1 % of players hold roughly a fifth of all skill.
SKILL_PARETO_ALPHA = 1.5
SKILL_CAP = 200.0
MEAN_POINTS_PER_SKILL = 10.0
LEVEL_UP_PROBABILITY = 0.04
MIN_SCORES_PER_MATCH = 5
MAX_SCORES_PER_MATCH = 30
PLATFORMS = ("ios", "android")
EVENT_TYPES = ("match_start", "score", "level_up", "match_end")
#: The milliseconds and the JSON between ``event_time`` and ``player_id``, for each millisecond.
_MILLIS = [f'.{ms:03d}Z","player_id":"' for ms in range(1000)]
#: The JSON between the event id and the event time, for each event type.
_TYPE_PARTS = {t: f'","event_type":"{t}","event_time":"' for t in EVENT_TYPES}


class GameGenerator:
    """``player_id``-keyed matches: ``match_start``, ``score`` x N, ``level_up`` now and then, ``match_end``."""

    key_field = "player_id"

    def __init__(self, seed: int, start_time_ms: int, events_per_second: float, players: int | None = None) -> None:
        rng = random.Random(seed)  # noqa: S311 - seeded simulation, not security
        self._rng = rng
        n = players or DEFAULT_PLAYERS
        self.player_ids = [f"player-{i:06d}" for i in range(n)]
        #: Ground truth for tests and demos: each player's skill (mean points per score is 10x this).
        self.skill = [min(rng.paretovariate(SKILL_PARETO_ALPHA), SKILL_CAP) for _ in range(n)]
        self._activity = list(itertools.accumulate(rng.lognormvariate(0.0, 1.0) for _ in range(n)))
        self._platform = [PLATFORMS[rng.random() < 0.55] for _ in range(n)]
        self._match: list[str | None] = [None] * n
        self._level = [1 + int(rng.expovariate(0.2)) for _ in range(n)]
        self._remaining = [0] * n
        self._match_ids = itertools.count()
        self._match_prefix = f"match-{rng.getrandbits(32):08x}-"
        id_prefix = f"{rng.getrandbits(64):016x}-"
        self._id_head = f'{{"event_id":"{id_prefix}'
        # The JSON around the per-player constants, made once: the player id and the platform.
        self._player_part = [f'{pid}","match_id":"' for pid in self.player_ids]
        self._platform_part = [f',"platform":"{platform}"}}' for platform in self._platform]
        self._second = -1
        self._second_text = ""
        self._start_ms = start_time_ms
        self._step_ms = 1000.0 / events_per_second
        self._emitted = 0

    def next_chunk(self, n: int) -> list[Event]:
        """The next ``n`` events as dicts (the realism path needs dicts to delay or spoil them).

        Parsed back from :meth:`next_records`, so both paths share one loop and so one random stream: the dicts
        serialize with orjson to exactly the bytes ``next_records`` gives.
        """
        loads = orjson.loads
        events: list[Event] = [loads(value) for _key, value in self.next_records(n)]
        return events

    def next_records(self, n: int) -> list[Record]:
        """The next ``n`` events as ``(player_id, JSON bytes)`` records, built without a dict or a JSON encoder.

        This is the hot loop of the 100k events/s target. Every string in a game event is ASCII letters, digits and
        ``-:.`` (ids, fixed names, timestamps), so nothing needs escaping and one f-string per event gives the bytes
        ``orjson.dumps`` would give for the same dict, key order included (a unit test holds the two equal).
        Everything the loop touches is a local; the timestamp, the event id and the exponential draw are inlined.
        """
        rng_random = self._rng.random
        randint = self._rng.randint
        log = math.log
        activity = self._activity
        total_activity = activity[-1]
        bisect_right = bisect.bisect_right
        player_ids, skill = self.player_ids, self.skill
        player_part, platform_part = self._player_part, self._platform_part
        match, level, remaining = self._match, self._level, self._remaining
        match_ids, match_prefix = self._match_ids, self._match_prefix
        id_head, millis = self._id_head, _MILLIS
        start, step, emitted = self._start_ms, self._step_ms, self._emitted
        second, second_text = self._second, self._second_text
        gmtime, strftime = time.gmtime, time.strftime
        out: list[Record] = []
        append = out.append
        for i in range(emitted, emitted + n):
            at_ms = start + int(i * step)
            if at_ms // 1000 != second:
                second = at_ms // 1000
                second_text = strftime("%Y-%m-%dT%H:%M:%S", gmtime(second))
            p = bisect_right(activity, rng_random() * total_activity)
            match_id = match[p]
            points = 0
            if match_id is None:
                match_id = match[p] = f"{match_prefix}{next(match_ids)}"
                remaining[p] = randint(MIN_SCORES_PER_MATCH, MAX_SCORES_PER_MATCH)
                type_part = _TYPE_PARTS["match_start"]
            elif remaining[p] > 0:
                remaining[p] -= 1
                if rng_random() < LEVEL_UP_PROBABILITY:
                    level[p] += 1
                    type_part = _TYPE_PARTS["level_up"]
                else:
                    type_part = _TYPE_PARTS["score"]
                    # Exponential with mean 10 x skill; 1 - random() is in (0, 1], so the log is finite.
                    points = int(-MEAN_POINTS_PER_SKILL * skill[p] * log(1.0 - rng_random()))
            else:
                match[p] = None
                type_part = _TYPE_PARTS["match_end"]
            append(
                (
                    player_ids[p],
                    f"{id_head}{i}{type_part}{second_text}{millis[at_ms % 1000]}{player_part[p]}{match_id}"
                    f'","level":{level[p]},"points":{points}{platform_part[p]}'.encode(),
                )
            )
        self._emitted = emitted + n
        self._second, self._second_text = second, second_text
        return out
