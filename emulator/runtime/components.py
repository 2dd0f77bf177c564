"""What a component of ``kemu up`` is built from; the list of them is in :mod:`emulator.runtime.wiring`.

Each factory takes the :class:`DemoContext` (settings and resolved service addresses) and returns the components it
builds: objects with an async ``run()`` or with async ``start()``/``stop()``, each with a unique ``name`` and,
optionally, ``stats()`` for ``/metrics`` (see :mod:`emulator.supervision`). The supervisor starts them in the
order of this list and stops them in reverse, so list the consumers that drain before the producers that feed:
the sink, then the analytics engine, then the producers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from emulator.endpoints import S3Target
from emulator.settings import Settings
from emulator.supervision import Component, ServiceComponent


@dataclass(frozen=True)
class DemoContext:
    """What a component factory may use: the settings read once, and where Kafka and S3 actually are."""

    settings: Settings
    kafka_bootstrap: str
    s3: S3Target


ComponentFactory = Callable[[DemoContext], Sequence[Component | ServiceComponent]]
