"""End-to-end fixtures: a fresh emulated org per test, in-process for speed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.emulator.testing import inprocess_emulator, running_emulator
from tests.e2e.harness import Rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """An empty org (in-process), an export directory and a state file."""
    with inprocess_emulator(tmp_path / "org") as org:
        yield Rig(org, tmp_path)


@pytest.fixture
def https_rig(tmp_path: Path) -> Iterator[Rig]:
    """The same over real loopback HTTPS."""
    with running_emulator(tmp_path / "org") as org:
        yield Rig(org, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
