"""Shared benchmark plumbing: the emulator in its own process, settings for it.

The emulator runs as a separate `connector emulator serve` process so that the
figures (wall time, peak memory) measure the connector, not the org.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from connector.config import (
    Settings,
)
from connector.emulator.testing import settings_for_org


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


class Emulator:
    def __init__(self, env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
        self.env = env
        self.proc = proc
        self.http = requests.Session()
        self.http.verify = env["SF_CA_BUNDLE"]
        self.http.trust_env = False

    def control(self, method: str, name: str, body: Any = None) -> Any:
        r = self.http.request(method, f"{self.env['SF_INSTANCE_URL']}/__emulator__/{name}",
                              json=body, timeout=600)
        r.raise_for_status()
        return r.json()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "stats")
        return result

    def reset(self) -> None:
        self.control("POST", "stats/reset")

    def server_rss_mb(self) -> float:
        try:
            import psutil

            return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20
        except Exception:
            return float("nan")


@contextmanager
def emulator(data_dir: Path, *, seed: str = "empty", daily_max: int = 5_000_000) -> \
        Iterator[Emulator]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "connection.env"
    if env_file.exists():
        env_file.unlink()
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "emulator", "serve", "--port", "0", "--data-dir",
         str(data_dir), "--seed", seed, "--daily-max", str(daily_max)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 1800
        while not env_file.exists():
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "died")
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.1)
        time.sleep(0.2)
        yield Emulator(read_env(env_file), proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def settings_for(env: dict[str, str], *, map_dir: Path | None = None,
                 state: Path | None = None, **salesforce: Any) -> Settings:
    return settings_for_org(env, map_dir=map_dir, state=state, **salesforce)


def run_child(script: Path, *args: str) -> str:
    """Run one measurement in a fresh process so its peak memory is its own."""
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-4000:])
    return result.stdout.strip().splitlines()[-1]
