"""Checkpoints: a query's state and its source offsets in one file, replaced atomically.

The file is an Arrow IPC stream of the open-window partials whose schema metadata carries the offsets, the
watermarks, the counters and the query's fingerprint. It is written to a temporary file, fsynced, and renamed
over the previous one (then the directory is fsynced), so a ``kill -9`` leaves either the old or the new
checkpoint, never a mix: state and offsets always agree.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from analytics.exceptions import CheckpointError

_META_KEY = b"kemu.checkpoint"


@dataclass
class Checkpoint:
    """What survives a restart. ``offsets`` are the next offsets to read, per partition."""

    query: str
    fingerprint: str
    offsets: dict[int, int] = field(default_factory=dict)
    operator: dict[str, object] = field(default_factory=dict)
    state: pa.Table | None = None
    #: The Kafka cluster the offsets belong to (None: unknown, e.g. a checkpoint of an older version).
    cluster_id: str | None = None


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (temp file, fsync, rename, fsync of the directory)."""
    meta = {
        "query": checkpoint.query,
        "fingerprint": checkpoint.fingerprint,
        "offsets": {str(k): v for k, v in checkpoint.offsets.items()},
        "operator": checkpoint.operator,
        "has_state": checkpoint.state is not None,
        "cluster_id": checkpoint.cluster_id,
    }
    table = checkpoint.state if checkpoint.state is not None else pa.table({})
    schema = table.schema.with_metadata({_META_KEY: json.dumps(meta).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        with ipc.new_stream(handle, schema) as writer:
            writer.write_table(table.replace_schema_metadata(schema.metadata))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load_checkpoint(path: Path, query: str, fingerprint: str) -> Checkpoint | None:
    """The checkpoint at ``path``, None when there is none; refuses one written by another version of the query."""
    if not path.exists():
        return None
    try:
        with open(path, "rb") as handle:
            table = ipc.open_stream(handle).read_all()
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
    except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({exc}); delete it to start over") from exc
    if meta.get("query") != query or meta.get("fingerprint") != fingerprint:
        raise CheckpointError(
            f"{path}: checkpoint of another version of query {query!r}; delete it to start the query over"
        )
    state = table.replace_schema_metadata(None) if meta.get("has_state") else None
    return Checkpoint(
        query=query,
        fingerprint=fingerprint,
        offsets={int(k): int(v) for k, v in meta.get("offsets", {}).items()},
        operator=dict(meta.get("operator", {})),
        state=state,
        cluster_id=meta.get("cluster_id"),
    )
