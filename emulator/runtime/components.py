"""What a component of ``kemu up`` is built from; the list of them is in :mod:`emulator.runtime.wiring`.

Each factory takes the :class:`~emulator.endpoints.ResolvedEndpoints` (settings and resolved service addresses) and
returns the components it builds: objects with an async ``run()`` or with async ``start()``/``stop()``, each with a
unique ``name`` and, optionally, ``stats()`` for ``/metrics`` (see :mod:`emulator.supervision`). The supervisor starts
them in the order of this list and stops them in reverse, so list the consumers that drain before the producers that
feed: the sink, then the analytics engine, then the producers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from emulator.endpoints import ResolvedEndpoints
from emulator.supervision import Component, ServiceComponent

ComponentFactory = Callable[[ResolvedEndpoints], Sequence[Component | ServiceComponent]]
