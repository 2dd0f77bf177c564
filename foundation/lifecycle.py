"""The shape of kemu's long-lived async resources: ``start()`` and ``stop()``, and ``async with`` over them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self


class AsyncResource(ABC):
    """A resource a caller either starts and stops itself or holds with ``async with``, which stops it on every
    way out of the block (the pattern of aiokafka's clients)."""

    @abstractmethod
    async def start(self) -> None:
        """Acquire what the resource needs (connections, files, tasks)."""

    @abstractmethod
    async def stop(self) -> None:
        """Release it; safe to call after a failed or partial ``start()``."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
