"""Serving: HTTPS and in-process alike, persistence across restarts, ids, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import typer
from typer.testing import CliRunner

from connector import sfid as ids
from connector.emulator.cli import emulator_app
from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api


def test_ids_have_valid_checksums_and_prefixes(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    made = {"Account": api.create("Account", Name="A"), "Contact": api.create("Contact",
                                                                              LastName="C"),
            "Lead": api.create("Lead", LastName="L", Company="C"),
            "Campaign": api.create("Campaign", Name="Cmp")}
    for obj, record_id in made.items():
        assert record_id[:3] == inproc.org.schema.objects[obj].key_prefix
        assert ids.is_valid_id(record_id) and ids.to18(record_id[:15]) == record_id
    lead = made["Lead"]
    assert api.patch(f"sobjects/Lead/{lead[:15]}", json={"Title": "T"}).status_code == 204
    results = api.collection("PATCH", [{"attributes": {"type": "Lead"}, "id": lead[:15],
                                        "Title": "U"}])
    assert results[0]["id"] == lead


def test_real_server_restart_keeps_data_sessions_and_continues_ids(
        emulator_fresh: EmulatorHandle) -> None:
    api = Api(emulator_fresh)
    first = api.create("Lead", LastName="Before", Company="C", MAP_Id__c="persist")
    url = emulator_fresh.instance_url
    emulator_fresh.restart()
    assert emulator_fresh.instance_url == url
    assert api.record("Lead", first)["LastName"] == "Before"  # the old token still works
    second = api.create("Lead", LastName="After", Company="C")
    assert second[3:15] > first[3:15]  # the sequence continued, not restarted
    duplicate = api.post("sobjects/Lead/", json={"LastName": "x", "Company": "C",
                                                 "MAP_Id__c": "PERSIST"})
    assert duplicate.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    assert emulator_fresh.stats()["daily_used"] >= 4


def test_inprocess_restart_keeps_data(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    lead = api.create("Lead", LastName="Kept", Company="C")
    inproc.restart()
    assert Api(inproc).record("Lead", lead)["LastName"] == "Kept"


def test_https_server_keeps_connections_alive(emulator: EmulatorHandle) -> None:
    session = emulator.session()
    token = emulator.access_token()
    ports = set()
    for _ in range(5):
        response = session.get(f"{emulator.instance_url}/services/data/v62.0/limits",
                               headers={"Authorization": f"Bearer {token}"}, stream=True)
        ports.add(response.raw._connection.sock.getsockname()[1])
        assert response.content
    assert len(ports) == 1


def test_https_requires_trusting_the_emulator_ca(emulator: EmulatorHandle) -> None:
    bare = requests.Session()
    bare.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        bare.get(f"{emulator.instance_url}/__emulator__/health", timeout=10)
    assert emulator.session().get(f"{emulator.instance_url}/__emulator__/health").json() == {
        "ok": True}


def test_env_names_everything_a_client_needs(emulator: EmulatorHandle) -> None:
    env = emulator.env()
    assert set(env) == {"SF_INSTANCE_URL", "SF_LOGIN_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET",
                        "SF_CA_BUNDLE", "SF_API_VERSION"}
    assert env["SF_INSTANCE_URL"].startswith("https://127.0.0.1:")
    assert Path(env["SF_CA_BUNDLE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    written = (emulator.data_dir / "connection.env").read_text()
    for key, value in env.items():
        assert f"{key}={value}" in written


def test_emulator_app_mounts_as_a_subcommand() -> None:
    root = typer.Typer()
    root.add_typer(emulator_app, name="emulator")
    result = CliRunner().invoke(root, ["emulator", "serve", "--help"])
    assert result.exit_code == 0
    for flag in ("--port", "--data-dir", "--seed", "--daily-max", "--session-seconds"):
        assert flag in result.output


def _serve(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from connector.emulator.cli import emulator_app; emulator_app()",
         "serve", "--data-dir", str(data_dir), "--port", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, "connection.env never appeared"
        time.sleep(0.05)
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if "=" in line and not line.startswith("#"))


def _session(env: dict[str, str]) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.trust_env = False
    session.verify = env["SF_CA_BUNDLE"]
    token = session.post(f"{env['SF_LOGIN_URL']}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": env["SF_CLIENT_ID"],
        "client_secret": env["SF_CLIENT_SECRET"]}, timeout=30).json()["access_token"]
    return session, token


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0, _err
    return out


def test_cli_serve_writes_connection_files_persists_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "manifest.json").write_text(json.dumps({"objects": ["Account"]}))
    (seed / "Account.jsonl").write_text('{"_key": "a", "Name": "Seeded"}\n')
    data_dir = tmp_path / "org"
    proc = _serve(data_dir, "--seed", str(seed), "--daily-max", "777")
    try:
        env = _wait_for(data_dir / "connection.env", proc)
        assert env["SF_API_VERSION"] == "62.0"
        for name in ("connection.env", "credentials.json", "jwt_private_key.pem"):
            assert (data_dir / name).stat().st_mode & 0o777 == 0o600
        session, token = _session(env)
        base = f"{env['SF_INSTANCE_URL']}/services/data/v62.0"
        headers = {"Authorization": f"Bearer {token}"}
        names = session.get(f"{base}/query", params={"q": "SELECT Name FROM Account"},
                            headers=headers).json()["records"]
        assert [r["Name"] for r in names] == ["Seeded"]
        assert session.get(f"{base}/limits", headers=headers).headers[
            "Sforce-Limit-Info"].endswith("/777")
    finally:
        output = _stop(proc)
    assert "https://127.0.0.1:" in output and "emulator stopped" in output
    (data_dir / "connection.env").unlink()
    again = _serve(data_dir, "--seed", str(seed))
    try:
        env = _wait_for(data_dir / "connection.env", again)
        session, token = _session(env)
        count = session.get(f"{env['SF_INSTANCE_URL']}/services/data/v62.0/query",
                            params={"q": "SELECT COUNT() FROM Account"},
                            headers={"Authorization": f"Bearer {token}"}).json()
        assert count["totalSize"] == 1  # kept, not seeded twice
    finally:
        assert "existing data kept" in _stop(again)


def test_cli_serve_refuses_a_bad_seed_with_exit_2(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "manifest.json").write_text(json.dumps({"objects": ["Lead"]}))
    (seed / "Lead.jsonl").write_text('{"_key": "a", "LastName": "x"}\n')
    result = subprocess.run(
        [sys.executable, "-c", "from connector.emulator.cli import emulator_app; emulator_app()",
         "serve", "--data-dir", str(tmp_path / "org"), "--seed", str(seed)],
        capture_output=True, text=True, timeout=60, env={**os.environ})
    assert result.returncode == 2
    assert "Lead.jsonl:1: Company: REQUIRED_FIELD_MISSING" in result.stderr


def test_seed_demo_loads_the_data_generator_output_once(inproc: EmulatorHandle,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.emulator import cli

    monkeypatch.setattr(cli, "DEMO_PEOPLE", 40)
    note = cli._seed(inproc.org, "demo", inproc.data_dir)
    assert note.startswith("seeded ") and (inproc.data_dir / "demo-data" / "sf").is_dir()
    assert Api(inproc).get("query", params={"q": "SELECT COUNT() FROM Account"}).json()[
        "totalSize"] > 0
    assert cli._seed(inproc.org, "demo", inproc.data_dir).startswith("existing data kept")


def test_concurrent_clients_are_served_consistently(emulator_fresh: EmulatorHandle) -> None:
    from concurrent.futures import ThreadPoolExecutor

    token = emulator_fresh.access_token()

    def work(worker: int) -> list[bool]:
        api = Api(emulator_fresh, token)
        outcomes = []
        for call in range(5):
            records = [{"attributes": {"type": "Lead"}, "LastName": f"W{worker}-{call}-{i}",
                        "Company": "C", "MAP_Id__c": f"w{worker}-{call}-{i}"} for i in range(20)]
            outcomes += [r["success"] for r in api.collection("PATCH", records,
                                                             "/Lead/MAP_Id__c")]
            outcomes.append(api.get("query", params={"q": "SELECT COUNT() FROM Lead"})
                            .status_code == 200)
        return outcomes

    emulator_fresh.reset_stats()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [ok for outcome in pool.map(work, range(8)) for ok in outcome]
    assert all(results) and len(results) == 8 * 5 * 21
    count = Api(emulator_fresh, token).get("query", params={"q": "SELECT COUNT() FROM Lead"})
    assert count.json()["totalSize"] == 8 * 5 * 20
    stats = emulator_fresh.stats()["api_calls"]
    assert (stats["write"], stats["by_endpoint"]["query"]) == (40, 41)
