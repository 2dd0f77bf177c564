"""Find aiokafka clients whose failed ``start()`` would leak them, read with :mod:`ast` (no code is run).

An ``AIOKafkaProducer``, ``AIOKafkaConsumer`` or ``AIOKafkaAdminClient`` warns "Unclosed ..." when it is collected
without ``stop()``/``close()``, even if it never started; pytest turns that warning into an error in whichever
test happens to be running when the garbage collector gets to it. So a client constructed, then started outside
the ``try`` whose ``finally`` (or ``except``) stops it, is a leak the moment ``start()`` raises (Kafka down, a
topic missing, a timeout). :func:`unguarded_starts` lists those starts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CLIENTS = frozenset({"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"})
CLEANUPS = frozenset({"stop", "close"})


@dataclass(frozen=True)
class UnguardedStart:
    path: Path
    line: int
    client: str
    #: What leaks it: its own ``start()`` outside the guard, or another ``await`` between its construction and it.
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.client}: {self.why}"


def _target(node: ast.expr) -> str | None:
    """``producer`` or ``self._producer``: the text naming what a client is assigned to."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _target(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _constructed(call: ast.expr) -> bool:
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in CLIENTS


def _method_calls(nodes: list[ast.stmt] | list[ast.ExceptHandler], methods: frozenset[str]) -> Iterator[str]:
    """``x.stop()`` anywhere in ``nodes`` → ``x``; a call of the enclosing object's own ``stop()`` → ``self``."""
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
                target = _target(node.func.value)
                if target is not None:
                    yield target


def _catches_all(handler: ast.ExceptHandler) -> bool:
    """A bare ``except`` or ``except BaseException``: a handler of ``KafkaError`` alone lets a cancellation (a
    timeout around the start, a shutdown) through with the client open."""
    return handler.type is None or (isinstance(handler.type, ast.Name) and handler.type.id == "BaseException")


def _guards(try_node: ast.Try, client: str) -> bool:
    handlers = [h for h in try_node.handlers if _catches_all(h)]
    cleaned = set(_method_calls(try_node.finalbody, CLEANUPS)) | set(_method_calls(handlers, CLEANUPS))
    # ``self._producer`` is stopped by ``self.stop()`` too (the owner's stop closes what it started).
    owner = client.rsplit(".", 1)[0] if "." in client else None
    return client in cleaned or (owner is not None and owner in cleaned)


def _starts(function: ast.AST, clients: set[str]) -> Iterator[tuple[ast.Call, str, list[ast.Try]]]:
    """Each ``await client.start()`` in ``function`` with the ``try`` statements around it (innermost last)."""

    def visit(node: ast.AST, trys: list[ast.Try]) -> Iterator[tuple[ast.Call, str, list[ast.Try]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and child is not function:
                continue
            if isinstance(child, ast.Await) and isinstance(child.value, ast.Call):
                call = child.value
                if isinstance(call.func, ast.Attribute) and call.func.attr == "start":
                    target = _target(call.func.value)
                    if target in clients:
                        yield call, target, trys
            if isinstance(child, ast.Try):
                # Only the ``try`` body is guarded by the statement's own handlers and ``finally``.
                for stmt in child.body:
                    yield from visit_stmt(stmt, [*trys, child])
                for part in (*child.handlers, *child.orelse, *child.finalbody):
                    yield from visit_stmt(part, trys)
            else:
                yield from visit(child, trys)

    def visit_stmt(stmt: ast.AST, trys: list[ast.Try]) -> Iterator[tuple[ast.Call, str, list[ast.Try]]]:
        wrapper = ast.Module(body=[stmt], type_ignores=[])  # type: ignore[list-item]
        yield from visit(wrapper, trys)

    yield from visit(function, [])


def unguarded_in_source(source: str, path: Path) -> list[UnguardedStart]:
    tree = ast.parse(source, filename=str(path))
    found: list[UnguardedStart] = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        clients: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _constructed(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                clients.update(t for t in map(_target, targets) if t is not None)
        for call, client, trys in _starts(function, clients):
            if not any(_guards(t, client) for t in trys):
                found.append(UnguardedStart(path, call.lineno, client, "start() is not inside a try that stops it"))
        found.extend(_awaits_before_guard(function, path))
    return found


def _blocks(function: ast.AST) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(function):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                yield handler.body


def _awaits(statement: ast.stmt) -> bool:
    return any(isinstance(node, ast.Await) for node in ast.walk(statement))


def _awaits_before_guard(function: ast.AST, path: Path) -> Iterator[UnguardedStart]:
    """A client constructed, then an ``await`` (another client's start, a topic check) before the ``try`` that
    stops it: if that await raises, the client is collected unclosed although it never started."""
    for block in _blocks(function):
        for index, statement in enumerate(block):
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or statement.value is None:
                continue
            if not _constructed(statement.value):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for client in (t for t in map(_target, targets) if t is not None):
                for later in block[index + 1 :]:
                    if isinstance(later, ast.Try) and _guards(later, client):
                        break
                    if _awaits(later):
                        yield UnguardedStart(
                            path, later.lineno, client, f"constructed on line {statement.lineno}, then an await "
                            "outside the try that stops it",
                        )  # fmt: skip
                        break


def unguarded_starts(root: Path, directories: tuple[str, ...]) -> list[UnguardedStart]:
    found: list[UnguardedStart] = []
    for directory in directories:
        for path in sorted((root / directory).rglob("*.py")):
            found.extend(unguarded_in_source(path.read_text(encoding="utf-8"), path.relative_to(root)))
    return found
