"""Headless Chromium screenshots of the HTML reports, for the README."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


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
