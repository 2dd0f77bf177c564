import pytest

from producers.schemas import SCHEMA_DIR, render_schemas

pytestmark = pytest.mark.unit


def test_kept_schemas_are_those_the_models_generate() -> None:
    """Fails when an event model changed and the files were not regenerated: `python -m producers.schemas`."""
    rendered = render_schemas()
    kept = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    assert kept == rendered, "producers/schemas/*.json are stale: run `.venv/bin/python -m producers.schemas`"


def test_schemas_name_the_partition_key_and_the_common_fields() -> None:
    import json

    for name, text in render_schemas().items():
        schema = json.loads(text)
        assert {"event_id", "event_type", "event_time"} <= set(schema["required"]), name
