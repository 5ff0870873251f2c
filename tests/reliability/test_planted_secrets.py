"""Planted secrets (every secret setting) never appear in stdout, stderr, logs,
reports, the state database or exception text, even when a server echoes them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connector.emulator.testing import EmulatorHandle, running_emulator
from tests.e2e.harness import AS_OF, Export, Rig
from tests.reliability.faults_helpers import cli_env

pytestmark = pytest.mark.e2e

PLANTED = {
    "SF_PASSWORD": "Planted-SF-Password-1f9a",
    "SF_SECURITY_TOKEN": "PlantedSecurityToken7c2e",
    "SF_ACCESS_TOKEN": "00DPLANTED0000001!PlantedAccessToken.3b8d",
    "MARKETO_CLIENT_SECRET": "Planted-Marketo-Secret-55aa",
    "HUBSPOT_TOKEN": "pat-na1-0b1c2d3e-1111-2222-3333-444455556666",
}


class _EchoingHubSpot(BaseHTTPRequestHandler):
    """A HubSpot that refuses every call and echoes the credentials it was sent."""

    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self._refuse()

    def _refuse(self) -> None:
        body = json.dumps({
            "status": "error", "category": "INVALID_AUTHENTICATION",
            "message": f"The token you sent ({self.headers.get('Authorization')}) is "
                       f"invalid; raw token {PLANTED['HUBSPOT_TOKEN']}"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hubspot() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingHubSpot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def org(tmp_path: Path) -> Iterator[EmulatorHandle]:
    with running_emulator(tmp_path / "org") as handle:
        yield handle


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "connector", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=cwd)
    return proc.returncode, proc.stdout + "\n" + proc.stderr


def _assert_clean(text: str, secrets: dict[str, str], where: str) -> None:
    for name, value in secrets.items():
        assert value not in text, f"{name} leaked into {where}"


def test_planted_secrets_never_leave(tmp_path: Path, org: EmulatorHandle,
                                     hubspot: str) -> None:
    export = Export(tmp_path / "map").program("W1", "Webinar")
    export.person("P1", "p1@acme.com").touch("t1", "P1", "form_fill", 1, "W1")
    export.write()

    env = cli_env(Rig(org, tmp_path), **PLANTED)
    secrets = {**PLANTED, "SF_CLIENT_SECRET": env["SF_CLIENT_SECRET"]}
    outputs: list[tuple[str, str]] = []
    as_of = ["--as-of", AS_OF.isoformat()]

    # 1. the MAP echoes its bearer token in an error body
    code, text = _run(["sync", "--format", "json", "-v", *as_of],
                      {**env, "MAP_KIND": "hubspot", "HUBSPOT_BASE_URL": hubspot}, tmp_path)
    assert code == 3, text[-2000:]
    assert "INVALID_AUTHENTICATION" in text or "invalid" in text
    outputs.append(("sync against an echoing HubSpot", text))

    # 2. a wrong Salesforce secret (the token endpoint's answer, the hint, the exit)
    code, text = _run(["sync", "-v", *as_of],
                      {**env, "SF_CLIENT_SECRET": PLANTED["SF_PASSWORD"] + "-wrong"}, tmp_path)
    assert code == 3, text[-2000:]
    outputs.append(("sync with a wrong secret", text))
    secrets["wrong secret"] = PLANTED["SF_PASSWORD"] + "-wrong"

    # 3. a real run, then every command that prints what runs stored
    for args in (["sync", "--format", "json", "-v", *as_of], ["sync", "-v", *as_of],
                 ["sync", "--dry-run", "--format", "json", *as_of],
                 ["runs", "--format", "json"], ["runs"], ["doctor", "--format", "json"],
                 ["explain", "person", "P1", "--format", "json"]):
        code, text = _run(args, env, tmp_path)
        assert code in (0, 1, 2), (args, text[-2000:])
        outputs.append((" ".join(args), text))

    for where, text in outputs:
        _assert_clean(text, secrets, where)
    for path in tmp_path.glob("state.db*"):  # the database, its WAL and lock file
        _assert_clean(path.read_bytes().decode("utf-8", "replace"), secrets, path.name)
