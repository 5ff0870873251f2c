"""Defects 3, 7, 10, 12: settings are validated up front; setup is proven before work."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from connector.config import load_settings, unknown_env_vars
from connector.errors import AuthError, ConfigError, ConnectionFailure, RetriableApiError
from connector.run.sync import Sync, SyncOptions
from connector.salesforce.net_errors import connection_reason
from connector.salesforce.retry import Backoff, retrying
from tests.e2e.harness import AS_OF, Rig

PREFIXES = ("SF_", "MAP_", "CONNECTOR_", "MARKETO_", "HUBSPOT_")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(os.environ):
        if name.startswith(PREFIXES):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(("env", "match"), [
    pytest.param({"SF_CA_BUNDLE": "/nonexistent/ca.pem"}, "SF_CA_BUNDLE.*does not exist",
                 id="missing-ca-bundle"),
    pytest.param({"SF_TIMEOUT_SECONDS": "0"}, "SF_TIMEOUT_SECONDS", id="zero-timeout"),
    pytest.param({"SF_API_VERSION": "abc"}, "SF_API_VERSION.*not a Salesforce API version",
                 id="bad-api-version"),
    pytest.param({"CONNECTOR_STATE": "/etc/hostname/state.db"}, "CONNECTOR_STATE.*cannot "
                 "create", id="state-under-a-file"),
    pytest.param({"CONNECTOR_MAPPINGS": "/nonexistent/mappings"},
                 "CONNECTOR_MAPPINGS.*not a directory", id="missing-mappings-dir"),
    pytest.param({"MARKETO_BASE_URL": "http://123-abc.mktorest.com"}, "MARKETO_BASE_URL.*https",
                 id="marketo-http"),
    pytest.param({"MARKETO_IDENTITY_URL": "http://123-abc.mktorest.com/identity"},
                 "MARKETO_IDENTITY_URL.*https", id="marketo-identity-http"),
    pytest.param({"HUBSPOT_BASE_URL": "http://api.hubapi.com"}, "HUBSPOT_BASE_URL.*https",
                 id="hubspot-http"),
    pytest.param({"HUBSPOT_BASE_URL": "ftp://api.hubapi.com"}, "HUBSPOT_BASE_URL",
                 id="hubspot-other-scheme"),
])
def test_bad_settings_are_one_config_error_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], match: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=match) as info:
        load_settings()
    assert info.value.exit_code == 2


def test_loopback_http_is_the_only_plain_http_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:8089")
    monkeypatch.setenv("MARKETO_BASE_URL", "http://localhost:9000")
    settings = load_settings()
    assert settings.hubspot.base_url == "http://127.0.0.1:8089"
    monkeypatch.setenv("SF_INSTANCE_URL", "http://127.0.0.1:8089")  # never for Salesforce
    with pytest.raises(ConfigError):
        load_settings()


@pytest.mark.parametrize(("toml", "match"), [
    pytest.param('[salesforce]\nbudget_shar = 0.2\n', "budget_shar(.|\n)*did you mean budget_share",
                 id="unknown-key"),
    pytest.param('[salesfroce]\nclient_id = "x"\n', "unknown table.*salesfroce",
                 id="unknown-table"),
])
def test_unknown_toml_keys_are_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        toml: str, match: str) -> None:
    (tmp_path / "c.toml").write_text(toml)
    monkeypatch.setenv("CONNECTOR_CONFIG", str(tmp_path / "c.toml"))
    with pytest.raises(ConfigError, match=match):
        load_settings()


def _sync_with(rig: Rig, **salesforce: object) -> None:
    settings = rig.settings()
    settings = replace(settings, salesforce=settings.salesforce.model_copy(update=salesforce))
    store = rig.store()
    try:
        Sync(settings, rig.mappings, store, http=rig.org.session(), sleep=lambda s: None).run(
            SyncOptions(as_of=AS_OF))
    finally:
        store.close()


def test_unknown_environment_variables_are_warned_with_a_suggestion(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    assert unknown_env_vars({"SF_BUDGET_SHAR": "0.2", "SF_CLIENT_ID": "x",
                             "CONNECTOR_CONFIG": "c.toml", "PATH": "/bin"}) == [
        "SF_BUDGET_SHAR is not a setting (did you mean SF_BUDGET_SHARE?); it is ignored"]
    monkeypatch.setenv("MAP_FILE_DIR", "/tmp")
    with caplog.at_level(logging.WARNING):
        load_settings()
    assert "MAP_FILE_DIR is not a setting (did you mean MAP_FILES_DIR?)" in caplog.text


def test_the_cli_exits_2_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIXES)}
    env.update({"SF_TIMEOUT_SECONDS": "0", "CONNECTOR_STATE": str(tmp_path / "s.db")})
    proc = subprocess.run([sys.executable, "-m", "connector", "sync"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "SF_TIMEOUT_SECONDS" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("exc", "reason"), [
    pytest.param(requests.ConnectionError(socket.gaierror(-2, "Name or service not known")),
                 "DNS", id="dns"),
    pytest.param(requests.ConnectionError(ConnectionRefusedError(111, "Connection refused")),
                 "refused", id="refused"),
    pytest.param(requests.exceptions.SSLError(ssl.SSLCertVerificationError(
        "certificate verify failed: self-signed certificate")), "not trusted", id="tls"),
    pytest.param(requests.Timeout("read timed out"), "timed out", id="timeout"),
])
def test_connection_failures_say_why(exc: BaseException, reason: str) -> None:
    assert reason in connection_reason(exc)


def test_a_refused_login_says_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from connector.salesforce import SalesforceClient

    monkeypatch.setenv("SF_LOGIN_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("SF_CLIENT_ID", "x")
    monkeypatch.setenv("SF_CLIENT_SECRET", "y")
    client = SalesforceClient(load_settings().salesforce, sleep=lambda s: None)
    with pytest.raises(ConnectionFailure, match="refused"):
        client.connect()


def test_the_last_attempt_announces_no_retry() -> None:
    announced: list[int] = []

    def fail() -> None:
        raise RetriableApiError("busy", status=503, error_code="SERVER_UNAVAILABLE")

    with pytest.raises(RetriableApiError):
        retrying(fail, attempts=3, backoff=Backoff(), sleep=lambda s: None,
                 on_retry=lambda exc, n, delay: announced.append(n))
    assert announced == [1, 2]  # three attempts, two retries


@pytest.mark.e2e
def test_a_wrong_instance_url_is_refused(rig: Rig) -> None:
    rig.export().person("P1", "p1@acme.com").write()
    with pytest.raises(ConfigError, match="SF_INSTANCE_URL"):
        _sync_with(rig, instance_url="https://na1.example.my.salesforce.com")


@pytest.mark.e2e
def test_salesforce_login_fails_before_the_map_is_read(rig: Rig) -> None:
    rig.export().person("P1", "p1@acme.com").write()
    with pytest.raises(AuthError):
        _sync_with(rig, client_secret=SecretStr("wrong-secret"))
    store = rig.store()
    assert store.people_count() == 0  # nothing was read
    assert store.watermark("map", "files") is None


@pytest.mark.e2e
def test_a_call_cap_of_10_means_10_calls(rig: Rig) -> None:
    export = rig.export().program("W1", "Webinar")
    for i in range(450):
        export.person(f"P{i}", f"p{i}@acme.com").touch(f"t{i}", f"P{i}", "form_fill", 1, "W1")
    export.write()
    rig.org.reset_stats()
    result = rig.sync(salesforce={"budget_calls": 10})
    assert result.status == "stopped"
    assert rig.org.stats()["api_calls"]["total"] <= 10
