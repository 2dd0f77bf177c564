"""The contract of the engine's output topics as JSON Schemas (``results.schema.json``, ``alerts.schema.json``): what
:mod:`analytics.emissions` writes and every reader (the API's models, tests, other consumers) reads. Shipped with the
package, so a consumer outside this repository validates against the same file."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

RESULTS = "results.schema.json"
ALERTS = "alerts.schema.json"


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (:data:`RESULTS` or :data:`ALERTS`), parsed."""
    loaded: dict[str, Any] = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    return loaded
