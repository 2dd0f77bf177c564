"""Finding the record that kills the write worker, so that one record cannot stop a delivery stream.

Converting goes through native code (pyarrow's JSON reader and Parquet writer). The format step keeps the input it
knows to crash that code away from it (:mod:`sinks.encoding`), but a crash it does not know would kill the worker
on the same records after every restart, and the stream would stop with nothing of the write delivered. So the
parent follows which write the worker was converting when it died (the worker reports each write converted):

1. a first death is retried as it is (the worker may have been killed from outside);
2. after a second, the write is *screened*: the worker converts its records in groups of :data:`SCREEN_GROUP`,
   announcing each group before converting it, and the real conversion follows only when every group passed;
3. a death while a group was announced marks that group to be screened record by record; a death while a single
   record was announced quarantines that record: from then on it goes to the error prefix unconverted, with the
   reason, and the write is screened again without it.

Each record that kills the worker costs two restarts, and a write gives up after :data:`MAX_QUARANTINED` such
records or :data:`MAX_PLAIN_DEATHS` deaths that screening does not explain. Quarantine changes nothing else: the
other records keep their objects, keys and bytes, and as a replay after a crash meets the same deaths, it finds the
same records (exactly once holds when the crash is a function of the records, as native crashes on input are).

Records whose conversion raises an exception (rather than crashing) are found the same way inside the worker,
without any restart.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

from sinks.exceptions import SinkError

#: Records converted together in a screening probe.
SCREEN_GROUP = 64
#: Records of one write that may be quarantined for crashing the worker before the stream gives up.
MAX_QUARANTINED = 16
#: Deaths of the worker on one write that screening did not explain, before the stream gives up.
MAX_PLAIN_DEATHS = 3


def describe_exit(code: int | None) -> str:
    """``exit code 3`` or ``signal 11 (SIGSEGV)``."""
    if code is not None and code < 0:
        try:
            return f"signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


@dataclass
class JobIsolation:
    """What the parent knows of a write whose conversion killed the worker."""

    #: Convert this write's records in announced groups first.
    screen: bool = False
    #: (partition, offset) → reason, of records that go to the errors unconverted.
    quarantine: dict[tuple[int, int], str] = field(default_factory=dict)
    #: (partition, first offset of a group): groups to screen record by record.
    narrow: set[tuple[int, int]] = field(default_factory=set)
    #: The group (partition, first offset, None) or record (partition, first offset of its group, offset) announced
    #: last, until the worker says screening is over.
    announced: tuple[int, int, int | None] | None = None
    plain_deaths: int = 0

    def on_death(self, stream: str, exit_code: int | None) -> None:
        """The worker died while converting this write; raises :class:`SinkError` when isolation cannot help."""
        how = describe_exit(exit_code)
        if self.announced is not None:
            partition, group, record = self.announced
            self.announced = None
            if record is None:
                self.narrow.add((partition, group))
                return
            self.quarantine[(partition, record)] = (
                f"converting this record crashed the write worker ({how}); it was isolated and not converted"
            )
            if len(self.quarantine) > MAX_QUARANTINED:
                raise SinkError(
                    f"the write worker of {stream!r} crashed on more than {MAX_QUARANTINED} records of one write; "
                    "this looks like a fault of the converter, not of the records"
                )
            return
        self.plain_deaths += 1
        if self.plain_deaths > MAX_PLAIN_DEATHS:
            raise SinkError(f"the write worker of {stream!r} keeps dying ({how}) on one write, even when screened")
        if self.plain_deaths >= 2:
            self.screen = True

    def screened(self) -> None:
        """Every group was converted without a crash: the write's own conversion comes next."""
        self.announced = None
