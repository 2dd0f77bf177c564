"""JSON Schemas of the events, generated from :mod:`producers.events`. Regenerate: ``python -m producers.schemas``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from producers.events import EVENT_MODELS

SCHEMA_DIR = Path(__file__).parent

__all__ = ["SCHEMA_DIR", "load_schema", "render_schema", "render_schemas", "write_schemas"]


def render_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``kind``'s events."""
    schema = EVENT_MODELS[kind].model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"kemu/{kind}.json", **schema}


def render_schemas() -> dict[str, str]:
    """File name → text of every schema file, exactly as kept in the repository."""
    return {
        f"{kind}.json": json.dumps(render_schema(kind), indent=2, ensure_ascii=False) + "\n" for kind in EVENT_MODELS
    }


def load_schema(kind: str) -> dict[str, Any]:
    """The schema of ``kind`` as kept in the repository."""
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file; returns their paths."""
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
