"""Hypothesis strategies for AWS request bodies, built from botocore's own service model.

Every operation's input shape becomes a strategy of request bodies as a client could send them over JSON 1.1 or
CBOR 1.1: members present or absent, values inside and outside the model's constraints, the wrong type now and
then, and (for the names a server resolves) values that point at things that exist, so that the fuzz also reaches
past validation into the operations themselves.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import botocore.session
import cbor2
from botocore.model import OperationModel, Shape
from hypothesis import strategies as st

Wire = Literal["json", "cbor"]

#: Any JSON value: what a confused client may put where a member belongs.
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
#: CBOR carries more: byte strings, NaN and infinities, big integers, tags.
ANY_CBOR = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.builds(cbor2.CBORTag, st.sampled_from([0, 1, 2, 4, 30, 258]), st.integers() | st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
MAX_DEPTH = 5


def service_operations(service: str) -> list[OperationModel]:
    """Every operation botocore knows for ``service`` (``kinesis``, ``firehose``), supported by kemu or not."""
    model = botocore.session.get_session().get_service_model(service)
    return [model.operation_model(name) for name in model.operation_names]


#: Numbers a CBOR body can hold that no integer or timestamp member can mean.
CBOR_SPECIALS = [float("nan"), float("inf"), float("-inf"), 2.5, -0.0, 2**64, -(2**64)]


def _around(low: int | None, high: int | None, wire: Wire) -> st.SearchStrategy[Any]:
    """Integers in the model's range, at its edges and just outside them, anything at all, and (CBOR) floats."""
    edges = [value for bound in (low, high) if bound is not None for value in (bound - 1, bound, bound + 1)]
    choices: list[st.SearchStrategy[Any]] = [
        st.integers(min_value=low, max_value=high),
        st.sampled_from(edges or [0]),
        st.integers(min_value=-(2**64), max_value=2**64),
    ]
    if wire == "cbor":
        choices.append(st.sampled_from(CBOR_SPECIALS))
    return st.one_of(choices)


def _string(shape: Shape, known: Mapping[str, Sequence[str]], member: str) -> st.SearchStrategy[Any]:
    """Text of any kind; at and past the model's length; the enum's values; and, mostly, names that resolve."""
    metadata = shape.metadata
    choices: list[st.SearchStrategy[Any]] = [st.text(max_size=40)]
    low, high = metadata.get("min", 0), metadata.get("max")
    if high is not None and high <= 300:
        choices.append(st.text(min_size=max(low, 0), max_size=high + 2))
        choices.append(st.text(alphabet="abcdefghij-_.0123456789", min_size=high, max_size=high + 1))
    if shape.enum:
        choices += [st.sampled_from(list(shape.enum))] * 3
    if known.get(member):
        choices += [st.sampled_from(list(known[member]))] * (len(choices) * 2)
    return st.one_of(choices)


def _blob(wire: Wire) -> st.SearchStrategy[Any]:
    if wire == "cbor":
        return st.one_of(st.binary(max_size=64), st.text(max_size=16))
    return st.one_of(
        st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode("ascii")),
        st.text(max_size=16),  # mostly not base64
    )


def _timestamp(wire: Wire) -> st.SearchStrategy[Any]:
    now = dt.datetime.now(dt.UTC).timestamp()
    seconds = st.one_of(
        st.floats(min_value=-1e300, max_value=1e300),
        st.sampled_from([-1.0, 0.0, now - 60, now + 3600, 9.3e15, 1e300, -62135596800.0]),
    )
    if wire == "cbor":
        millis = st.one_of(
            st.integers(min_value=-(2**66), max_value=2**66),
            st.floats(),
            st.sampled_from(CBOR_SPECIALS),
            seconds.map(lambda value: value * 1000),
        )
        return st.one_of(millis, millis.map(lambda value: cbor2.CBORTag(1, value)))
    iso = st.sampled_from(
        ["1960-01-01T00:00:00Z", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2026-02-30T00:00:00Z"]
    )
    return st.one_of(seconds, st.integers(min_value=-(2**64), max_value=2**64), iso, st.text(max_size=12))


def _structure(shape: Shape, wire: Wire, known: Mapping[str, Sequence[str]], depth: int) -> Any:
    """Maps of the shape's members: often with every required member (to get past the first check), always
    with any optional member present or not."""
    members = {name: body_values(sub, wire, known, name, depth + 1) for name, sub in shape.members.items()}
    required = [name for name in shape.required_members if name in members]
    complete = st.fixed_dictionaries(
        {name: members[name] for name in required},
        optional={name: value for name, value in members.items() if name not in required},
    )
    return st.one_of(complete, complete, st.fixed_dictionaries({}, optional=members))


def _valid(shape: Shape, wire: Wire, known: Mapping[str, Sequence[str]], member: str, depth: int) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return st.just({}) if depth >= MAX_DEPTH else _structure(shape, wire, known, depth)
    if kind == "list":
        high = min(shape.metadata.get("max", 4), 6)
        return st.lists(body_values(shape.member, wire, known, member, depth + 1), max_size=high)
    if kind == "map":
        return st.dictionaries(
            _string(shape.key, known, member), body_values(shape.value, wire, known, member, depth + 1), max_size=4
        )
    if kind == "string":
        return _string(shape, known, member)
    if kind in ("integer", "long"):
        return _around(shape.metadata.get("min"), shape.metadata.get("max"), wire)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return _blob(wire)
    if kind == "timestamp":
        return _timestamp(wire)
    if kind in ("double", "float"):
        return st.floats(allow_nan=wire == "cbor", allow_infinity=wire == "cbor")
    return ANY_JSON


def body_values(
    shape: Shape, wire: Wire, known: Mapping[str, Sequence[str]], member: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values for a member of ``shape``: mostly of its type, now and then any value the wire can carry."""
    confused = ANY_CBOR if wire == "cbor" else ANY_JSON
    valid = _valid(shape, wire, known, member, depth)
    return st.one_of(valid, valid, valid, confused)


def request_bodies(
    operation: OperationModel, wire: Wire, known: Mapping[str, Sequence[str]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Top-level request bodies of ``operation`` (a map, as both protocols require)."""
    shape = operation.input_shape
    return st.just({}) if shape is None else _structure(shape, wire, known, 0)


def encode(body: dict[str, Any], wire: Wire) -> bytes:
    """The body on the wire. JSON through the standard library, which writes integers of any size (a hostile
    client may); the JSON strategies draw no NaN, infinity, bytes or tags."""
    if wire == "cbor":
        return cbor2.dumps(body)
    return json.dumps(body, allow_nan=False).encode()
