"""The e2e fixtures (an emulated org per test) for the reliability suite."""

from __future__ import annotations

from tests.e2e.conftest import https_rig, rig

__all__ = ["https_rig", "rig"]
