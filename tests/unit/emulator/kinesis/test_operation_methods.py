"""Every Kinesis and Firehose operation the router serves names a coroutine method of its service, dotted where a
component of the service (``fanout``, ``resharder``) owns it: a misspelt path would only fail at the first call."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from emulator.firehose.api import OPERATIONS as FIREHOSE_OPERATIONS
from emulator.firehose.service import FirehoseService
from emulator.kinesis.api import OPERATIONS as KINESIS_OPERATIONS
from emulator.kinesis.fanout import FanOut
from emulator.kinesis.resharding import Resharder
from emulator.kinesis.service import KinesisService

#: The components a service's constructor makes (``self.fanout = FanOut(...)``), by attribute.
COMPONENTS: dict[str, type] = {"fanout": FanOut, "resharder": Resharder}


def method_of(service: type, path: str) -> Any:
    """The function ``path`` names, checked without constructing the service (its constructor makes Kafka clients)."""
    *components, name = path.split(".")
    owner = service
    for component in components:
        made = f"self.{component} = {COMPONENTS[component].__name__}("
        assert made in inspect.getsource(service.__init__), f"{service.__name__} does not make {component}"
        owner = COMPONENTS[component]
    return getattr(owner, name)


@pytest.mark.parametrize(
    ("service", "path"),
    [(KinesisService, method) for _, method in KINESIS_OPERATIONS.values()]
    + [(FirehoseService, method) for _, method in FIREHOSE_OPERATIONS.values()],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_each_operation_names_a_coroutine_method(service: type, path: str) -> None:
    assert inspect.iscoroutinefunction(method_of(service, path))
