"""AWS's validation of a request, from botocore's service model, in AWS's order.

AWS (the Coral framework behind Kinesis) checks a request in three steps, and so does this module:

1. **Types** (:meth:`OperationValidator.check_types`): every member present must have its shape's type, or the call
   is a ``SerializationException`` naming the first one that does not;
2. **Constraints** (:meth:`OperationValidator.check_constraints`): every required member present, lengths, value
   ranges, patterns and enums; *every* violation is listed in one ``ValidationException`` ("3 validation errors
   detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null; ..."), members in
   alphabetical order, at most 10;
3. then the service's own checks and the resources (the request shapes and the service, after this module).

The checks are compiled once per operation from the model (``min``, ``max``, ``pattern``, ``enum``, ``required``), so
the limits are AWS's without a copy. A list member can be given a precomputed check for its well-formed items
(``fast_items``): PutRecords' 500 records then cost one tight loop, and only a record that fails it is walked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session

from emulator.aws.errors import ValidationException, shown_value
from emulator.aws.shapes import Wire, member_name, type_error

#: AWS lists at most this many violations in one message.
MAX_VIOLATIONS = 10

#: A precomputed check of a list's items: the indexes of those that are not well-formed in every respect (the others
#: need no walk).
FastItems = Callable[[list[Any]], list[int]]


@dataclass
class _Node:
    """A compiled shape: its type, its constraints, and its members or items."""

    type_name: str
    min: int | None = None
    max: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    enum: tuple[str, ...] = ()
    #: Structure members, in AWS's order (alphabetical): (wire name, member path name, node, required).
    members: list[tuple[str, str, _Node, bool]] = field(default_factory=list)
    item: _Node | None = None
    key: _Node | None = None
    value: _Node | None = None
    fast_items: FastItems | None = None


def _compile(shape: Any, depth: int = 0) -> _Node:
    metadata = shape.metadata
    node = _Node(shape.type_name, metadata.get("min"), metadata.get("max"))
    if metadata.get("pattern"):
        node.pattern_text = metadata["pattern"]
        node.pattern = re.compile(node.pattern_text)
    node.enum = tuple(getattr(shape, "enum", None) or ())
    if depth > 20:  # recursive shapes (none in Kinesis): stop describing, keep the type
        return node
    if shape.type_name == "structure":
        required = set(shape.required_members)
        for name in sorted(shape.members, key=str.lower):
            member = _compile(shape.members[name], depth + 1)
            node.members.append((name, member_name(name), member, name in required))
    elif shape.type_name == "list":
        node.item = _compile(shape.member, depth + 1)
    elif shape.type_name == "map":
        node.key = _compile(shape.key, depth + 1)
        node.value = _compile(shape.value, depth + 1)
    return node


_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "boolean": "a boolean",
    "blob": "base64 text or bytes",
    "timestamp": "a timestamp",
    "list": "a list",
    "map": "a structure or map",
    "structure": "a structure or map",
}


class OperationValidator:
    """The type and constraint checks of one operation's input shape."""

    def __init__(self, root: _Node) -> None:
        self._root = root

    def check(self, body: dict[str, Any], wire: Wire) -> None:
        """Types first, then every constraint: raises the AWS error of the first step that fails."""
        slow: _Slow = {}
        self.check_types(body, wire, slow)
        self.check_constraints(body, slow)

    def check_types(self, body: dict[str, Any], wire: Wire, slow: _Slow | None = None) -> None:
        _types(self._root, body, "", wire, {} if slow is None else slow)

    def check_constraints(self, body: dict[str, Any], slow: _Slow | None = None) -> None:
        """Every constraint; ``slow`` is what :meth:`check_types` found of the lists with a fast item check."""
        violations: list[str] = []
        _constraints(self._root, body, "", violations, {} if slow is None else slow)
        if violations:
            count = len(violations)
            raise ValidationException(
                f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(violations)}"
            )


#: For each list with a fast item check (by ``id``), the indexes of its items that failed it.
_Slow = dict[int, list[int]]


def _items(node: _Node, value: list[Any], slow: _Slow) -> list[int]:
    """Indexes of the items of ``value`` that need the full walk (every one, unless the node has a fast check)."""
    found = slow.get(id(value))
    if found is None:
        fast = node.fast_items
        found = list(range(len(value))) if fast is None else fast(value)
        slow[id(value)] = found
    return found


def _types(node: _Node, value: Any, path: str, wire: Wire, slow: _Slow) -> None:
    if value is None:
        return
    kind = node.type_name
    ok: bool
    if kind == "string":
        ok = isinstance(value, str)
    elif kind in ("integer", "long"):
        ok = (type(value) is int) or (isinstance(value, float) and value.is_integer())
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "blob":
        if isinstance(value, str | bytes | bytearray):
            wire.blob(value, path or "body")  # bad base64 is a serialization error, before any constraint
        ok = isinstance(value, str | bytes | bytearray)
    elif kind == "timestamp":
        wire.timestamp_ms(value, path or "body")
        ok = True
    elif kind == "list":
        ok = isinstance(value, list)
        if ok and node.item is not None:
            for index in _items(node, value, slow):
                _types(node.item, value[index], f"{path}.{index + 1}.member", wire, slow)
    elif kind == "map":
        ok = isinstance(value, dict)
        if ok and node.key is not None and node.value is not None:
            for key, item in value.items():
                _types(node.key, key, path, wire, slow)
                _types(node.value, item, f"{path}.{key}", wire, slow)
    elif kind == "structure":
        ok = isinstance(value, dict)
        if ok:
            for name, member_path, member, _ in node.members:
                if name in value:
                    _types(member, value[name], f"{path}.{member_path}" if path else member_path, wire, slow)
    else:
        ok = True
    if not ok:
        raise type_error(path or "body", _EXPECTED.get(kind, kind))


def _length(node: _Node, value: Any) -> int:
    if node.type_name == "blob" and isinstance(value, str):
        # The decoded size, without decoding: the types step has already checked it is base64.
        return len(value) * 3 // 4 - (len(value) - len(value.rstrip("=")))
    return len(value)


def _constraints(node: _Node, value: Any, path: str, out: list[str], slow: _Slow) -> None:
    if len(out) >= MAX_VIOLATIONS:
        return
    kind = node.type_name
    if kind == "structure":
        for name, member_path, member, required in node.members:
            member_value = value.get(name)
            full = f"{path}.{member_path}" if path else member_path
            if member_value is None:
                if required:
                    _violation(out, None, full, "Member must not be null")
                continue
            _constraints(member, member_value, full, out, slow)
        return
    if kind in ("integer", "long"):
        number = int(value)
        if node.min is not None and number < node.min:
            _violation(out, number, path, f"Member must have value greater than or equal to {node.min}")
        if node.max is not None and number > node.max:
            _violation(out, number, path, f"Member must have value less than or equal to {node.max}")
        return
    if kind in ("string", "blob", "list", "map"):
        if node.pattern is not None and not node.pattern.fullmatch(value):
            _violation(out, value, path, f"Member must satisfy regular expression pattern: {node.pattern_text}")
        if node.enum and value not in node.enum:
            _violation(out, value, path, f"Member must satisfy enum value set: [{', '.join(node.enum)}]")
        size = _length(node, value)
        if node.min is not None and size < node.min:
            _violation(out, _shown(node, value), path, f"Member must have length greater than or equal to {node.min}")
        if node.max is not None and size > node.max:
            _violation(out, _shown(node, value), path, f"Member must have length less than or equal to {node.max}")
    if kind == "list" and node.item is not None:
        for index in _items(node, value, slow):
            if value[index] is not None:
                _constraints(node.item, value[index], f"{path}.{index + 1}.member", out, slow)
    elif kind == "map" and node.key is not None and node.value is not None:
        for key, item in value.items():
            _constraints(node.key, key, path, out, slow)
            if item is not None:
                _constraints(node.value, item, f"{path}.{key}", out, slow)


def _shown(node: _Node, value: Any) -> Any:
    if node.type_name == "blob":
        size = _length(node, value)
        return f"java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]"
    if node.type_name == "list":
        return f"[{len(value)} items]"
    return value


def _violation(out: list[str], value: Any, path: str, constraint: str) -> None:
    if len(out) < MAX_VIOLATIONS:
        shown = "null" if value is None else f"'{shown_value(value)}'"
        out.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operation_validators(
    service: str, operations: list[str], fast_items: Mapping[tuple[str, str], FastItems] | None = None
) -> dict[str, OperationValidator]:
    """The validators of ``operations`` of ``service``'s model; ``fast_items`` maps (operation, list member) to the
    precomputed check of its well-formed items."""
    model = _model(service)
    validators: dict[str, OperationValidator] = {}
    for operation in operations:
        shape = model.operation_model(operation).input_shape
        root = _compile(shape) if shape is not None else _Node("structure")
        for (name, member), fast in (fast_items or {}).items():
            if name == operation:
                for wire_name, _, node, _ in root.members:
                    if wire_name == member:
                        node.fast_items = fast
        validators[operation] = OperationValidator(root)
    return validators


def has_output(service: str, operation: str) -> bool:
    """Whether AWS answers ``operation`` with a body: operations without an output shape answer an empty one."""
    return _model(service).operation_model(operation).output_shape is not None


__all__ = ["MAX_VIOLATIONS", "FastItems", "OperationValidator", "has_output", "operation_validators"]
