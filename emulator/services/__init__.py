"""The embedded default: a real Kafka broker and a real MinIO server, provisioned and run without Docker."""

from emulator.services.launcher import LocalServices, ServiceStatus
from emulator.services.progress import Reporter, SilentReporter
from emulator.services.state import ServicesState

__all__ = ["LocalServices", "Reporter", "ServiceStatus", "ServicesState", "SilentReporter"]
