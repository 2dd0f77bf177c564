"""Running the emulator's parts in one process: the supervisor and the one-command demo."""

from emulator.runtime.supervisor import (
    Backoff,
    Component,
    ComponentStatus,
    ReportsStats,
    ServiceComponent,
    State,
    Supervisor,
    SupervisorEvent,
)

__all__ = [
    "Backoff",
    "Component",
    "ComponentStatus",
    "ReportsStats",
    "ServiceComponent",
    "State",
    "Supervisor",
    "SupervisorEvent",
]
