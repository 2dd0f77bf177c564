"""The layers of the project, held by a table of allowed imports (see docs/ARCHITECTURE.md, "Layers").

The libraries (``producers``, ``analytics``, ``sinks``) import nothing of each other or of ``emulator``, only the
bottom layer ``foundation`` (which imports nothing of the project). Inside
``emulator``, each sub-package or module is a unit: the AWS services (``kinesis``, ``firehose``) stand on one
protocol layer (``aws``) and never import each other; ``supervision`` and ``endpoints`` sit below ``api`` and
``runtime``; only ``cli`` (and ``__main__``) import the CLI. A new unit (``emulator.glue``) gets its row here.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.layering import Crossing, crossings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("foundation", "producers", "analytics", "sinks", "emulator", "bench")
LAYERED = ("emulator",)

#: The foundation of ``emulator``: modules every layer above may use.
BASE = frozenset({"foundation", "emulator.exceptions", "emulator.names", "emulator.version", "emulator.logs"})
CONFIG = BASE | {"emulator.config", "emulator.settings", "emulator.topics"}
#: What an AWS service served on the endpoint may import: the protocol layer, configuration, the libraries.
AWS_SERVICE = CONFIG | {"emulator.aws", "emulator.supervision", "producers", "sinks"}
#: Everything below the entry points.
BELOW_CLI = AWS_SERVICE | {
    "analytics",
    "emulator.api",
    "emulator.aws_env",
    "emulator.duck",
    "emulator.edge",
    "emulator.endpoints",
    "emulator.firehose",
    "emulator.flink",
    "emulator.glue",
    "emulator.athena",
    "emulator.lake",
    "emulator.kinesis",
    "emulator.listen",
    "emulator.runtime",
    "emulator.services",
}

ALLOWED: dict[str, frozenset[str]] = {
    # The bottom layer: one rule each that every package needs (the clock, UTF-8 checks, names); it imports nothing.
    "foundation": frozenset(),
    # The libraries stand alone, on the bottom layer only.
    "producers": frozenset({"foundation"}),
    "analytics": frozenset({"foundation"}),
    "sinks": frozenset({"foundation"}),
    # The foundation.
    "emulator.exceptions": frozenset(),
    "emulator.names": frozenset({"foundation"}),  # the patterns are the bottom layer's, shared with the libraries
    "emulator.version": frozenset(),
    "emulator.logs": frozenset(),
    "emulator.listen": frozenset({"emulator.exceptions"}),
    "emulator.supervision": BASE,
    "emulator.config": BASE | {"sinks"},
    "emulator.settings": BASE | {"emulator.config", "analytics"},
    "emulator.topics": BASE | {"emulator.settings", "emulator.config"},
    "emulator.aws_env": BASE | {"emulator.config"},
    # Local services and where things are: below the API and the CLI.
    "emulator.services": CONFIG | {"sinks"},
    "emulator.endpoints": CONFIG | {"emulator.services", "sinks"},
    "emulator.duck": CONFIG | {"emulator.endpoints"},
    "emulator.flink": CONFIG | {"emulator.services", "analytics"},
    # The AWS protocol layer, and the services on it: never each other.
    "emulator.aws": BASE,
    "emulator.kinesis": AWS_SERVICE,
    # The lake's shared helpers (S3 objects and footers, Glue types, table targets), under Glue, Athena and Firehose.
    "emulator.lake": CONFIG | {"sinks"},
    "emulator.firehose": AWS_SERVICE | {"emulator.lake"},
    "emulator.glue": AWS_SERVICE | {"emulator.lake"},
    "emulator.athena": AWS_SERVICE | {"emulator.lake"},
    "emulator.edge": AWS_SERVICE
    | {"emulator.kinesis", "emulator.firehose", "emulator.glue", "emulator.athena", "emulator.lake", "emulator.listen"},
    # The HTTP API reads what the pipeline writes; the runtime composes it with the rest.
    # The Lake panel follows the catalog and queries with Athena's runner, through the edge's Glue-to-Athena view.
    "emulator.api": AWS_SERVICE
    | {"emulator.endpoints", "emulator.listen", "emulator.glue", "emulator.athena", "emulator.lake", "emulator.edge"}
    - {"emulator.aws"},
    "emulator.runtime": BELOW_CLI - {"emulator.runtime", "emulator.flink", "emulator.duck"},
    # The entry points.
    "emulator.cli": BELOW_CLI,
    "emulator.__main__": frozenset({"emulator.cli"}),
    # Benchmarks drive the parts directly, never through the CLI.
    "bench": BELOW_CLI,
}


def test_every_import_across_units_is_in_the_table() -> None:
    found = crossings(ROOT, PACKAGES, LAYERED, ALLOWED)
    assert not found, "imports across layers that the table does not allow:\n" + "\n".join(map(str, found))


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


SYNTHETIC = {
    "lib/__init__.py": "",
    "lib/core.py": "VALUE = 1\n",
    "app/aws/__init__.py": "",
    "app/aws/protocol.py": "from lib.core import VALUE\n",
    "app/kinesis/__init__.py": "",
    "app/kinesis/service.py": "from app.aws import protocol\nfrom . import helpers\n",
    "app/kinesis/helpers.py": "",
    "app/firehose/__init__.py": "",
    "app/firehose/service.py": "from ..aws.protocol import VALUE\n",
}
SYNTHETIC_ALLOWED = {
    "lib": frozenset[str](),
    "app.aws": frozenset({"lib"}),
    "app.kinesis": frozenset({"app.aws"}),
    "app.firehose": frozenset({"app.aws"}),
}


def test_a_tree_that_keeps_its_layers_passes(tmp_path: Path) -> None:
    write(tmp_path, SYNTHETIC)
    assert crossings(tmp_path, ("lib", "app"), ("app",), SYNTHETIC_ALLOWED) == []


def test_a_deliberately_wrong_import_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, SYNTHETIC)
    # Firehose reaching into Kinesis (relative, inside a function), and the library reaching up into the app.
    write(
        tmp_path,
        {
            "app/firehose/store.py": """
                def lazy():
                    from ..kinesis.helpers import thing
            """,
            "lib/core.py": "import app.aws.protocol\n",
        },
    )
    found = crossings(tmp_path, ("lib", "app"), ("app",), SYNTHETIC_ALLOWED)
    assert found == [
        Crossing(Path("app/firehose/store.py"), 3, "app.firehose", "app.kinesis"),
        Crossing(Path("lib/core.py"), 1, "lib", "app.aws"),
    ]
    assert str(found[0]) == "app/firehose/store.py:3: app.firehose imports app.kinesis"


def test_a_unit_missing_from_the_table_may_import_nothing_of_the_others(tmp_path: Path) -> None:
    write(tmp_path, {**SYNTHETIC, "app/glue/__init__.py": "from app.aws import protocol\n"})
    found = crossings(tmp_path, ("lib", "app"), ("app",), SYNTHETIC_ALLOWED)
    assert [(c.importer, c.imported) for c in found] == [("app.glue", "app.aws")]


def test_the_real_tree_fails_on_a_wrong_import_in_a_copy(tmp_path: Path) -> None:
    """The table above, on a copy of two real units with one import that crosses: Kinesis importing Firehose."""
    for unit in ("emulator/aws", "emulator/kinesis"):
        for path in (ROOT / unit).glob("*.py"):
            (tmp_path / unit).mkdir(parents=True, exist_ok=True)
            (tmp_path / unit / path.name).write_text(path.read_text())
    write(tmp_path, {"emulator/firehose/__init__.py": "", "emulator/firehose/store.py": ""})
    assert crossings(tmp_path, ("emulator",), LAYERED, ALLOWED) == []
    wrong = tmp_path / "emulator/kinesis/streams.py"
    text = wrong.read_text() + "from emulator.firehose.store import *  # noqa\n"
    wrong.write_text(text)
    found = crossings(tmp_path, ("emulator",), LAYERED, ALLOWED)
    last = len(text.splitlines())
    assert [(str(c.path), c.line, c.imported) for c in found] == [
        (str(wrong.relative_to(tmp_path)), last, "emulator.firehose")
    ]
