"""Unit tests of planning, diff, scope and execution (no emulator, no network)."""
