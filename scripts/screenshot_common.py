"""Headless Chromium screenshots of the HTML reports, for the README."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector.datagen import generate
from connector.datagen.generate import DEFAULT_AS_OF
from connector.emulator.testing import inprocess_emulator
from tests.e2e.harness import Rig


@contextmanager
def synced_world(tmp: Path, *, people: int, seed: int = 7) -> Iterator[tuple[Any, Rig]]:
    """A generated MAP export and its seeded org (in process), synced once at the
    generator's as-of: the (org, rig) the report screenshots start from."""
    data = generate(tmp / "data", people=people, seed=seed)
    with inprocess_emulator(tmp / "org", seed_dir=data.sf_dir) as org:
        rig = Rig(org, tmp)
        (tmp / "map").symlink_to(data.map_dir, target_is_directory=True)
        rig.sync(as_of=DEFAULT_AS_OF)
        yield org, rig


def find_chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is needed for the screenshot: `make chromium`")
    return chromium


def screenshot(chromium: str, page: Path, shot: Path, profile: Path, *,
               height: int) -> None:
    """A 1280-wide screenshot of ``page`` after its scripts ran, fully offline."""
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--hide-scrollbars", f"--user-data-dir={profile}",
         f"--window-size=1280,{height}", "--virtual-time-budget=3000",
         f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120)
