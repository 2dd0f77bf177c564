"""What a finished query gives back to its execution."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.athena.results import ColumnInfo


@dataclass
class Outcome:
    """Columns, rows as text, statement type, bytes scanned, and where the result (or CTAS manifest) was written."""

    columns: list[ColumnInfo]
    rows: list[list[str | None]]
    statement_type: str = "DML"
    scanned_bytes: int = 0
    manifest: str | None = None
    result_location: str | None = None
    with_header: bool = True
