"""The bottom layer every package of kemu may import: small pure helpers that are one rule each.

``producers``, ``analytics`` and ``sinks`` are libraries that import nothing of each other or of ``emulator``; a rule
they all need (what "now" is in epoch milliseconds, why bytes are not UTF-8 text) would otherwise be copied into each
and drift. It lives here instead, and this package imports nothing of the project.
"""

from foundation.clock import now_ms
from foundation.exports import lazy_exports
from foundation.lifecycle import AsyncResource
from foundation.text import utf8_problem

__all__ = ["AsyncResource", "lazy_exports", "now_ms", "utf8_problem"]
