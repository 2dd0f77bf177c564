"""The imports between the project's layers, read with :mod:`ast` (no code is imported or run).

A *unit* is a top-level package (``sinks``), or inside a package that is split in layers (``emulator``) one of its
sub-packages or modules (``emulator.kinesis``, ``emulator.topics``). :func:`crossings` lists every import from one
unit into another that the table of allowed imports does not name, so a new import across a layer fails a test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Crossing:
    """``importer`` (a file, line ``line``) imports ``imported``, which its unit may not."""

    path: Path
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}"


def unit_of(module: str, layered: Iterable[str]) -> str:
    """``emulator.kinesis.service`` → ``emulator.kinesis`` when ``emulator`` is layered, else its top package."""
    parts = module.split(".")
    if parts[0] in layered and len(parts) > 1:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Every module an import statement names (lazy imports in functions and ``TYPE_CHECKING`` blocks too: they
    are dependencies all the same), relative imports resolved against ``module``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            yield node.lineno, base
            # ``from emulator import topics`` imports the unit ``emulator.topics``, not only ``emulator``.
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def crossings(
    root: Path, packages: Iterable[str], layered: Iterable[str], allowed: Mapping[str, frozenset[str]]
) -> list[Crossing]:
    """The imports under ``root``'s ``packages`` from one unit into another that ``allowed`` does not list.

    Only imports of ``packages`` count (the standard library and third parties are free). A unit absent from
    ``allowed`` may import nothing of the others, so a new unit must be placed in the table before it is used.
    """
    ours = set(packages)
    layered = set(layered)
    found: list[Crossing] = []
    for package in sorted(ours):
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(root, path)
            importer = unit_of(module, layered)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            seen: set[str] = set()
            for line, name in imported_modules(tree, module, path.name == "__init__.py"):
                if name.split(".")[0] not in ours or _is_attribute(name, root):
                    continue
                imported = unit_of(name, layered)
                if imported == importer or imported in layered or imported in seen:
                    continue
                seen.add(imported)
                if imported not in allowed.get(importer, frozenset()):
                    found.append(Crossing(path.relative_to(root), line, importer, imported))
    return found


def _is_attribute(name: str, root: Path) -> bool:
    """``from sinks import make_s3_client`` also yields ``sinks.make_s3_client``, which is no module: skip it."""
    parts = name.split(".")
    if len(parts) < 2:
        return False
    where = root.joinpath(*parts)
    return not (where.with_suffix(".py").is_file() or (where / "__init__.py").is_file())
