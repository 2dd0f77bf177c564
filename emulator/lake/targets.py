"""Where a delivery stream registers what it writes (pure): the table, named ``database.table``, and the table's
location, the fixed part of the stream's prefix. Shared by Firehose's API, ``kemu sink run`` and ``kemu up``."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.names import GLUE_TABLE_REF_RE


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table of the catalog."""

    database: str
    table: str

    @classmethod
    def parse(cls, value: str, what: str = "a catalog table") -> TableRef:
        """``database.table`` (any case); ValueError that says the form otherwise."""
        match = GLUE_TABLE_REF_RE.fullmatch(value.strip().lower())
        if match is None:
            raise ValueError(
                f"{what} must be DATABASE.TABLE with Glue names (letters, digits, _ and -), got {value[:120]!r}"
            )
        return cls(match[1], match[2])

    def __str__(self) -> str:
        return f"{self.database}.{self.table}"


def location_prefix(prefix: str) -> str:
    """The fixed part of a delivery stream's prefix, up to its last ``/`` before any ``!{...}`` expression: the
    table's location. Firehose's default layout (no expressions) puts ``yyyy/MM/dd/HH/`` below the prefix."""
    if "!{" not in prefix:
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"
    static = prefix.split("!{", 1)[0]
    return static[: static.rfind("/") + 1]
