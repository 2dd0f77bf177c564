"""How much an endpoint writes to Kafka at once: a budget of records and bytes in flight (taken when a record is
accepted for writing, given back when Kafka has answered for it).

A record that does not fit is refused at once with ``ProvisionedThroughputExceededException`` (Firehose:
``ServiceUnavailableException``), which every AWS SDK and the KCL treat as "retry later". Without a bound, an
overloaded endpoint queued writes until they timed out inside the Kafka client and answered ``InternalFailure``,
which tells a client neither whether the record was written nor whether to retry. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class InFlightBudget:
    """Records and bytes accepted but not yet answered by Kafka, bounded by ``max_records`` and ``max_bytes``."""

    max_records: int
    max_bytes: int
    records: int = 0
    bytes: int = 0
    #: Records refused since start (the endpoint's overload counter).
    refused: int = 0

    def try_take(self, size: int) -> bool:
        """Take room for one record of ``size`` bytes, or refuse it (counted). With nothing in flight a record is
        always taken, so one larger than the byte budget is written alone rather than never."""
        if self.records and (self.records >= self.max_records or self.bytes + size > self.max_bytes):
            self.refused += 1
            return False
        self.records += 1
        self.bytes += size
        return True

    def give_back(self, records: int, size: int) -> None:
        """Return the room of ``records`` records of ``size`` bytes in all, once Kafka answered for them."""
        self.records -= records
        self.bytes -= size
