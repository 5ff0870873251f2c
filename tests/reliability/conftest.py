"""The e2e fixtures (an emulated org per test) for the reliability suite.

The suite's fault scenarios target sObject Collections calls (their faults match
``composite/sobjects``), so Collections is forced with the ``SF_BULK_THRESHOLD``
override unless a test asks for Bulk 2.0 (``bulk_threshold`` in its settings).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import https_rig, rig

COLLECTIONS_ONLY = "1000000000"


@pytest.fixture(autouse=True)
def _collections_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_BULK_THRESHOLD", COLLECTIONS_ONLY)


__all__ = ["https_rig", "rig"]
