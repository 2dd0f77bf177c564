"""The fenced examples of README.md and docs/*.md, as the documentation test runs them (pure parsing, no I/O but
reading the files).

Conventions the documents follow, visible to their readers:

- A block whose first line is a comment starting with ``illustrative:`` (``# illustrative: …`` in shell and Python,
  ``-- illustrative: …`` in SQL) is not run; the test reports it as skipped with that reason.
- A shell command whose comment says ``until Ctrl-C`` keeps running: the test starts it, waits until it serves,
  carries on with the next commands, and presses Ctrl-C (SIGINT to its process group, as a terminal does) at the
  end of the section (the next ``##`` heading) or of the document.
- SQL with a ``-- source:`` header line is a query file (checked with ``kemu analytics list --queries``); other SQL
  runs with ``kemu sql`` against the services. TOML blocks are configuration files and must load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL = frozenset({"bash", "sh", "shell", "console"})
RUN = SHELL | {"python", "sql", "toml"}
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_ILLUSTRATIVE = re.compile(r"^\s*(?:#|--)\s*illustrative:\s*(?P<reason>.+)$")
#: A shell command that runs until Ctrl-C: ``cmd   # what it does; until Ctrl-C``.
UNTIL_CTRL_C = re.compile(r"#[^#]*\buntil Ctrl-C\b")


@dataclass(frozen=True)
class Block:
    doc: str  # path relative to the repository
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    section: str  # the ``##`` heading it sits under ("" before the first)

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}:{self.lang}"

    @property
    def illustrative(self) -> str | None:
        """The reason given on the block's first line, when it is marked illustrative."""
        first = self.text.lstrip("\n").split("\n", 1)[0]
        match = _ILLUSTRATIVE.match(first)
        return match["reason"].strip() if match else None

    @property
    def is_query_file(self) -> bool:
        return self.lang == "sql" and re.search(r"^--\s*source:", self.text, re.MULTILINE) is not None


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with a language the test runs, in document order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    doc = str(path.relative_to(ROOT))
    found: list[Block] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        match = _FENCE.match(line)
        if match is None:
            i += 1
            continue
        indent = len(match["indent"])
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        body = "\n".join(text[indent:] for text in lines[i + 1 : end])
        lang = match["lang"].lower()
        if lang in RUN:
            found.append(Block(doc, i + 1, "bash" if lang in SHELL else lang, body + "\n", section))
        i = end + 1
    return found


def shell_commands(text: str) -> list[str]:
    """The logical lines of a shell block: continuation lines joined, blank and comment-only lines dropped."""
    commands: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if pending:
            pending += "\n" + raw
        else:
            pending = raw
        if raw.rstrip().endswith("\\"):
            continue
        if pending.strip() and not pending.strip().startswith("#"):
            commands.append(pending)
        pending = ""
    if pending.strip():
        commands.append(pending)
    return commands


def with_ports(text: str, api_port: int, edge_port: int, tls_port: int | None = None) -> str:
    """The documents' default ports (8000 for the API, 4566 for the AWS endpoint, 4567 for its TLS port) swapped for
    the test's own."""
    for host in ("127.0.0.1", "localhost"):
        text = text.replace(f"{host}:8000", f"{host}:{api_port}").replace(f"{host}:4566", f"{host}:{edge_port}")
        if tls_port is not None:
            text = text.replace(f"{host}:4567", f"{host}:{tls_port}")
    if tls_port is not None:
        text = text.replace("--tls-port 4567", f"--tls-port {tls_port}")
    return text
