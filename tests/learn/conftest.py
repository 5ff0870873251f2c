"""Generated worlds shared by the learned-scoring tests (each made once per process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.datagen.generate import DEFAULT_AS_OF, generate
from connector.learn.ledger import Ledger
from connector.learn.sources import from_generated
from tests.factories import mappings


@pytest.fixture(scope="session")
def signal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("learn-signal")
    generate(out, people=12_000, seed=11, signal=True)
    return out


@pytest.fixture(scope="session")
def signal_history(signal_dir: Path) -> Ledger:
    return from_generated(signal_dir, mappings(), DEFAULT_AS_OF)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("learn-small")
    generate(out, people=3000, seed=5)
    return out


@pytest.fixture(scope="session")
def account_signal_history(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    out = tmp_path_factory.mktemp("learn-account-signal")
    generate(out, people=12_000, seed=11, account_signal=True)
    return from_generated(out, mappings(), DEFAULT_AS_OF)
