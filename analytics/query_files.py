"""Finding and compiling query files: the built-in ones shipped in ``analytics/queries`` plus a user's directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analytics.compiler import compile_query
from analytics.exceptions import QueryDirectoryError, QueryError
from analytics.plan import CompiledQuery
from analytics.sources import Source, load_sources

BUILTIN_QUERIES = Path(__file__).parent / "queries"


def load_queries(directories: Sequence[Path] = (), builtins: bool = True) -> dict[str, CompiledQuery]:
    """Compile every ``*.sql`` of the built-in directory (unless disabled) and of ``directories``, in that order.

    Each directory may hold a ``sources.toml`` that adds or overrides sources. Every query is checked now, so a
    bad one fails here with its file, line and reason rather than at its first event. A directory that does not
    exist is an error too: a mistyped path would otherwise run the built-ins alone without a word.
    """
    for directory in directories:
        if not directory.exists():
            raise QueryDirectoryError(f"query directory {directory} does not exist")
        if not directory.is_dir():
            raise QueryDirectoryError(f"query directory {directory} is not a directory")
    folders = [BUILTIN_QUERIES] if builtins else []
    folders += list(directories)
    sources: dict[str, Source] = {}
    for folder in folders:
        if (folder / "sources.toml").is_file():
            sources.update(load_sources(folder / "sources.toml"))
    queries: dict[str, CompiledQuery] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.sql")):
            query = compile_query(path, path.read_text(encoding="utf-8"), sources)
            if query.name in queries:
                # Never a silent replacement: a user's file named like a built-in (or like another user's) would
                # change what `--query NAME` runs without a word.
                used = queries[query.name].path
                what = "the built-in query" if used.parent == BUILTIN_QUERIES else "the query"
                raise QueryError(
                    path,
                    1,
                    f"query name {query.name!r} is already used by {what} {used}; give this one another name "
                    "(a '-- name: ...' header line or another file name), or turn the built-in queries off "
                    "(builtin_queries = false) to replace them",
                )
            queries[query.name] = query
    return queries


def select_queries(queries: dict[str, CompiledQuery], names: Sequence[str]) -> list[CompiledQuery]:
    """The named queries (all when ``names`` is empty); an unknown name is a :class:`ValueError` listing the known."""
    if not names:
        return list(queries.values())
    unknown = [name for name in names if name not in queries]
    if unknown:
        raise ValueError(f"unknown query {', '.join(unknown)}; known: {', '.join(sorted(queries))}")
    return [queries[name] for name in names]
