"""The API's in-memory picture of the analytics output: the latest result of every (board, window), recent alerts,
and the fan-out of every change to server-sent-event subscribers.

It is fed one record at a time (by :class:`~emulator.api.consumer.ResultsConsumer` from Kafka, or directly by a
test) and is only touched from the event loop, so it needs no locks. Memory is bounded: a board keeps its newest
``windows_per_board`` windows, the alerts their newest ``alerts_capacity``; the Kafka topics are the history.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.api.models import (
    Alert,
    AlertRecord,
    LeaderboardEntry,
    LeaderboardSummary,
    LeaderboardWindow,
    ResultRecord,
)

#: Pending events per subscriber; a slow client loses the oldest board updates, never blocks the feed.
SUBSCRIBER_QUEUE = 64
LEADERBOARD_COLUMNS = frozenset({"rank", "key", "score"})


def is_leaderboard(rows: list[dict[str, Any]]) -> bool:
    """A query is served as a leaderboard when its rows carry the contract's ``rank``, ``key`` and ``score``."""
    return all(row.keys() >= LEADERBOARD_COLUMNS for row in rows)


@dataclass
class BoardWindow:
    """The latest emission of one (board, window), with its answers serialised once per ``limit`` asked."""

    record: ResultRecord
    entries: list[LeaderboardEntry]
    _json: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, record: ResultRecord) -> BoardWindow:
        entries = [
            LeaderboardEntry(
                rank=int(row["rank"]), key=None if row["key"] is None else str(row["key"]), score=float(row["score"])
            )
            for row in record.rows
        ]
        entries.sort(key=lambda e: (e.rank, e.key is not None, e.key or ""))
        return cls(record, entries)

    def answer(self, limit: int) -> LeaderboardWindow:
        r = self.record
        return LeaderboardWindow(
            name=r.query,
            window_start=r.window_start,
            window_end=r.window_end,
            final=r.final,
            watermark=r.watermark,
            emitted_at=r.emitted_at,
            total_entries=len(self.entries),
            entries=self.entries[:limit],
        )

    def answer_json(self, limit: int) -> bytes:
        """The JSON of :meth:`answer`, cached: the GET path of the benchmark does no model work after the first."""
        cached = self._json.get(limit)
        if cached is None:
            if len(self._json) > 32:  # bounded: clients may ask many different limits
                self._json.clear()
            cached = self._json[limit] = self.answer(limit).model_dump_json().encode()
        return cached


class Board:
    """All kept windows of one board, ordered by window start."""

    def __init__(self, name: str, capacity: int) -> None:
        self.name = name
        self._capacity = capacity
        self._starts: list[datetime] = []
        self._windows: dict[datetime, BoardWindow] = {}

    def apply(self, record: ResultRecord) -> BoardWindow | None:
        """Store ``record`` unless an emission of the same window made later is already there."""
        existing = self._windows.get(record.window_start)
        if existing is not None and record.emitted_at < existing.record.emitted_at:
            return None
        window = BoardWindow.of(record)
        if existing is None:
            bisect.insort(self._starts, record.window_start)
        self._windows[record.window_start] = window
        while len(self._starts) > self._capacity:
            del self._windows[self._starts.pop(0)]
        return window

    def __len__(self) -> int:
        return len(self._starts)

    def current(self) -> BoardWindow:
        """The newest window (boards are only created with one)."""
        return self._windows[self._starts[-1]]

    def last(self) -> BoardWindow | None:
        """The newest window marked final; without one, the window before the current one."""
        for start in reversed(self._starts):
            if self._windows[start].record.final:
                return self._windows[start]
        return self._windows[self._starts[-2]] if len(self._starts) > 1 else None

    def at(self, instant: datetime) -> BoardWindow | None:
        """The window holding ``instant`` (start inclusive, end exclusive); with overlapping (hopping) windows, the
        one that started last."""
        index = bisect.bisect_right(self._starts, instant)
        for start in reversed(self._starts[:index]):
            window = self._windows[start]
            if window.record.window_end > instant:
                return window
        return None

    def summary(self) -> LeaderboardSummary:
        current = self.current().record
        return LeaderboardSummary(
            name=self.name,
            windows=len(self._starts),
            current_window_start=current.window_start,
            current_window_end=current.window_end,
            watermark=max(w.record.watermark for w in self._windows.values()),
            updated_at=max(w.record.emitted_at for w in self._windows.values()),
        )


@dataclass
class ViewStats:
    """Counters exported by ``/metrics``."""

    results_applied: int = 0
    results_stale: int = 0
    results_not_leaderboard: int = 0
    alerts_applied: int = 0
    invalid_records: int = 0
    subscriber_drops: int = 0


class _Closed:
    """Marks the end of a subscription: the view was closed."""


CLOSED = _Closed()
Event = BoardWindow | Alert | _Closed


class Subscription:
    """One SSE client's queue of pending events."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(SUBSCRIBER_QUEUE)

    async def next(self, timeout_s: float) -> Event | None:
        """The next event, or ``None`` when none came within ``timeout_s`` (time for a keep-alive)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None

    def offer(self, item: Event) -> bool:
        """Enqueue without blocking; when full, the oldest pending item makes room. ``False`` if one was dropped."""
        dropped = False
        if self.queue.full():
            self.queue.get_nowait()
            dropped = True
        self.queue.put_nowait(item)
        return not dropped


class ResultsView:
    """Latest board per (query, window), an alerts ring buffer, and the subscribers of both."""

    def __init__(self, windows_per_board: int = 64, alerts_capacity: int = 10_000) -> None:
        self._windows_per_board = windows_per_board
        self._alerts_capacity = alerts_capacity
        self._boards: dict[str, Board] = {}
        self._alerts: OrderedDict[str, Alert] = OrderedDict()
        self._board_subscribers: dict[str, set[Subscription]] = {}
        self._alert_subscribers: set[Subscription] = set()
        self.stats = ViewStats()
        self.closed = False

    # --- feeding --------------------------------------------------------------------------------------------

    def apply_result(self, record: ResultRecord) -> bool:
        """Take one results record; ``True`` when it changed a board. Subscribers hear of changes to the current
        window (a late update to an older window does not move a live page back in time)."""
        if not is_leaderboard(record.rows):
            self.stats.results_not_leaderboard += 1
            return False
        board = self._boards.get(record.query)
        if board is None:
            board = self._boards[record.query] = Board(record.query, self._windows_per_board)
        window = board.apply(record)
        if window is None:
            self.stats.results_stale += 1
            return False
        self.stats.results_applied += 1
        if board.current() is window:
            for subscription in self._board_subscribers.get(record.query, ()):
                self._offer(subscription, window)
        return True

    def apply_alert(self, record: AlertRecord) -> bool:
        """Take one alert; a repeated ``alert_id`` replaces the earlier one in place and is not pushed again."""
        alert = Alert.model_validate(record.model_dump())
        self.stats.alerts_applied += 1
        if record.alert_id in self._alerts:
            self._alerts[record.alert_id] = alert
            return False
        self._alerts[record.alert_id] = alert
        while len(self._alerts) > self._alerts_capacity:
            self._alerts.popitem(last=False)
        for subscription in self._alert_subscribers:
            self._offer(subscription, alert)
        return True

    def record_invalid(self) -> None:
        self.stats.invalid_records += 1

    def _offer(self, subscription: Subscription, item: BoardWindow | Alert) -> None:
        if not subscription.offer(item):
            self.stats.subscriber_drops += 1

    # --- reading --------------------------------------------------------------------------------------------

    def board(self, name: str) -> Board | None:
        return self._boards.get(name)

    def boards(self) -> list[Board]:
        return [self._boards[name] for name in sorted(self._boards)]

    def alerts(self, since: datetime | None = None, limit: int = 100) -> list[Alert]:
        """Newest first (by arrival), only those emitted after ``since`` when given."""
        found: list[Alert] = []
        for alert in reversed(self._alerts.values()):
            if len(found) >= limit:
                break
            if since is None or alert.emitted_at > since:
                found.append(alert)
        return found

    @property
    def alert_count(self) -> int:
        return len(self._alerts)

    @property
    def subscriber_count(self) -> int:
        return len(self._alert_subscribers) + sum(len(s) for s in self._board_subscribers.values())

    # --- subscribing ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def board_subscription(self, name: str) -> Iterator[Subscription]:
        """Receive each change of board ``name``'s current window while the block runs."""
        subscription = Subscription()
        self._board_subscribers.setdefault(name, set()).add(subscription)
        if self.closed:
            subscription.offer(CLOSED)
        try:
            yield subscription
        finally:
            subscribers = self._board_subscribers.get(name)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._board_subscribers[name]

    @contextlib.contextmanager
    def alert_subscription(self) -> Iterator[Subscription]:
        """Receive each new alert while the block runs."""
        subscription = Subscription()
        self._alert_subscribers.add(subscription)
        if self.closed:
            subscription.offer(CLOSED)
        try:
            yield subscription
        finally:
            self._alert_subscribers.discard(subscription)

    def close(self) -> None:
        """End every subscription (server shutdown must not wait for open event streams)."""
        self.closed = True
        for subscription in [*self._alert_subscribers, *(s for subs in self._board_subscribers.values() for s in subs)]:
            subscription.offer(CLOSED)
