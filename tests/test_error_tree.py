"""Every error the connector raises on purpose is in ``connector.errors``' drawn
tree, drawn under its real parent, with its real exit code; and every class in
the tree is used, so the tree never promises an error nothing raises."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import connector
from connector import errors
from connector.errors import ConnectorError

ROOT = Path(connector.__file__).resolve().parent
# The emulator models Salesforce's own errors (they become HTTP responses, never
# reach a connector user): they stay beside the emulator's code.
EMULATOR_MODELS = {"SoqlError", "RecordError", "CallError", "TokenError", "MultipleMatches",
                   "ValueError_"}
LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(?P<rest>.*)$")


def drawn() -> list[tuple[int, str, int | None]]:
    """(depth, class name, exit code drawn or None) for each line of the tree."""
    out = []
    doc = errors.__doc__ or ""
    tree = doc[doc.index("ConnectorError "):]
    for line in tree.splitlines():
        match = LINE.match(line.strip("\n")[4:] if line.startswith("    ") else line)
        if not match:
            continue
        code = re.search(r"exit (\d)", match["rest"][:30])
        out.append((len(match["indent"]) // 4, match["name"],
                    int(code[1]) if code else None))
    return out


def every_connector_error() -> set[type[ConnectorError]]:
    for module in pkgutil.walk_packages(connector.__path__, "connector."):
        if not module.name.endswith("__main__"):  # runs the CLI
            importlib.import_module(module.name)
    found: set[type[ConnectorError]] = set()
    pending: list[type[ConnectorError]] = [ConnectorError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_connector_error_class_is_drawn() -> None:
    names = {name for _, name, _ in drawn()}
    missing = sorted(c.__name__ for c in every_connector_error() if c.__name__ not in names)
    assert missing == []


def test_each_drawn_class_sits_under_its_parent_with_its_exit_code() -> None:
    classes = {c.__name__: c for c in every_connector_error()}
    parents: list[str] = []
    for depth, name, code in drawn():
        parents[depth:] = [name]
        cls = classes[name]
        if depth:
            assert issubclass(cls, classes[parents[depth - 1]]), name
        if code is not None:
            assert cls.exit_code == code, name


def _names_used_in(path: Path) -> set[str]:
    """Names the module's code refers to (raise, except, isinstance, a table of
    classes...): identifiers and attribute names, not comments or docstrings."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
    return out


def test_every_error_class_is_used_outside_its_definition() -> None:
    """A class nobody raises, catches or names (outside ``errors.py``, where the
    tree only declares it) is dead: remove it, or raise it where it belongs. A
    parent counts as used when one of its subclasses is."""
    used: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if path != ROOT / "errors.py":
            used |= _names_used_in(path)

    def live(cls: type[ConnectorError]) -> bool:
        return cls.__name__ in used or any(live(sub) for sub in cls.__subclasses__())

    assert sorted(c.__name__ for c in every_connector_error() if not live(c)) == []


def _exception_classes_outside_the_tree() -> list[str]:
    """Classes deriving from a built-in exception, not from a connector error."""
    out = []
    builtin = {"Exception", "ValueError", "RuntimeError", "KeyError", "LookupError"}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name not in EMULATOR_MODELS \
                    and node.name != "ConnectorError":
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                if bases and bases <= builtin:
                    out.append(f"{path.relative_to(ROOT)}:{node.name}")
    return out


def test_no_error_class_lives_outside_the_tree() -> None:
    assert _exception_classes_outside_the_tree() == []


@pytest.mark.parametrize(("cls", "code"), [
    pytest.param(errors.ConfigError, 2, id="config"),
    pytest.param(errors.AuthError, 3, id="auth"),
    pytest.param(errors.ConnectionFailure, 3, id="connection"),
    pytest.param(errors.BudgetExhausted, 4, id="budget"),
    pytest.param(errors.SourceBudgetExhausted, 4, id="map-budget"),
    pytest.param(errors.SourceQuotaExhausted, 4, id="map-quota"),
    pytest.param(errors.ApiLimitExceeded, 4, id="org-limit"),
    pytest.param(errors.RunLocked, 5, id="locked"),
    pytest.param(errors.TrainingRefused, 1, id="training-refused"),
])
def test_exit_codes_are_the_documented_ones(cls: type[ConnectorError], code: int) -> None:
    assert cls.exit_code == code
