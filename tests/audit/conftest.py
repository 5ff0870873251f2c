"""Audit fixtures: the e2e rig (an in-process emulated org per test)."""

from __future__ import annotations

from tests.e2e.conftest import https_rig, rig

__all__ = ["https_rig", "rig"]
