"""Test helpers: a running emulator and everything a client needs to reach it.

    with running_emulator(tmp_path) as org:          # real HTTPS on 127.0.0.1:<free port>
        sf = org.salesforce()                        # simple-salesforce, unmodified
        sf.Lead.create({"LastName": "Ada", "Company": "Acme"})
        assert org.stats()["api_calls"]["write"] == 1

``inprocess_emulator`` is the same org without a socket: its ``session()`` routes
every ``https://`` request straight into the WSGI app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from connector.emulator.app import EmulatorApp
from connector.emulator.auth import DEFAULT_SESSION_SECONDS
from connector.emulator.connection import connection_env, write_connection_files
from connector.emulator.inprocess import InProcessAdapter
from connector.emulator.org import DEFAULT_API_VERSION, Org, OrgOptions
from connector.emulator.seed import load_seed
from connector.emulator.server import EmulatorServer
from connector.emulator.usage import DEFAULT_DAILY_MAX

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from simple_salesforce.api import Salesforce

    from connector.config import Settings

INPROCESS_URL = "https://org.emulator.invalid"


class EmulatorHandle:
    """A running emulated org, its connection settings and its control endpoints."""

    def __init__(self, data_dir: Path, options: OrgOptions, *, real: bool,
                 api_version: str = DEFAULT_API_VERSION) -> None:
        self.data_dir = data_dir
        self.options = options
        self.real = real
        self.api_version = api_version
        self.org = Org(data_dir, options)
        self._server: EmulatorServer | None = None
        self._app = EmulatorApp(self.org)
        self.ca_path: Path | None = None
        self.instance_url = INPROCESS_URL
        self._port = 0
        if real:
            self._start_server()
        else:
            self.org.base_url = INPROCESS_URL

    def _start_server(self) -> None:
        self._server = EmulatorServer(self.org, port=self._port)
        self._server.start()
        self._port = self._server.port
        self._app = self._server.app
        self.ca_path = self._server.ca_path
        self.instance_url = self._server.url
        write_connection_files(self.org, self.instance_url, self.ca_path)

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        """The in-process adapter calls through here, so a restart swaps the app under it."""
        return self._app(environ, start_response)

    # ------------------------------------------------------------- connection

    @property
    def login_url(self) -> str:
        return self.instance_url

    @property
    def client_id(self) -> str:
        return self.org.credentials.client_id

    @property
    def client_secret(self) -> str:
        return self.org.credentials.client_secret

    @property
    def username(self) -> str:
        return self.org.credentials.username

    @property
    def password(self) -> str:
        return self.org.credentials.password

    @property
    def security_token(self) -> str:
        return self.org.credentials.security_token

    @property
    def private_key_path(self) -> Path:
        return self.org.private_key_path

    def session(self) -> requests.Session:
        """A ``requests.Session`` that reaches this org (trusting its CA, or in-process)."""
        session = requests.Session()
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override Session.verify
        # (psf/requests#3829); a loopback org needs neither env CAs nor env proxies.
        session.trust_env = False
        if self.real:
            assert self.ca_path is not None
            session.verify = str(self.ca_path)
        else:
            session.mount("https://", InProcessAdapter(self._wsgi))
        return session

    def env(self) -> dict[str, str]:
        """The ``SF_*`` variables a client needs (client-credentials flow)."""
        return connection_env(self.org, self.instance_url, self.ca_path, self.api_version)

    def access_token(self) -> str:
        """A fresh session id from the token endpoint (client credentials)."""
        with self.session() as session:
            response = session.post(f"{self.login_url}/services/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret}, timeout=30)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def salesforce(self, version: str | None = None) -> Salesforce:
        """simple-salesforce, unmodified, on this org with a fresh token."""
        from simple_salesforce.api import Salesforce

        return Salesforce(instance_url=self.instance_url, session_id=self.access_token(),
                          session=self.session(), version=version or self.api_version)

    # --------------------------------------------------------------- control

    def control(self, method: str, name: str, body: Any = None) -> Any:
        with self.session() as session:
            response = session.request(method, f"{self.instance_url}/__emulator__/{name}",
                                       json=body, timeout=60)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} /__emulator__/{name} -> {response.status_code}: "
                               f"{response.text}")
        return response.json()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self.control("POST", "stats/reset")

    def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.control("PUT", "faults", {"rules": rules})["rules"]
        return result

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def set_daily_max(self, daily_max: int, *, daily_used: int | None = None) -> None:
        body: dict[str, int] = {"daily_max": daily_max}
        if daily_used is not None:
            body["daily_used"] = daily_used
        self.control("PUT", "limits", body)

    def convert_lead(self, lead_id: str, *, account_id: str | None = None,
                     contact_id: str | None = None, create_opportunity: bool = False,
                     converted_status: str | None = None) -> dict[str, str | None]:
        body: dict[str, Any] = {"lead_id": lead_id, "create_opportunity": create_opportunity}
        for key, value in (("account_id", account_id), ("contact_id", contact_id),
                           ("converted_status", converted_status)):
            if value is not None:
                body[key] = value
        result: dict[str, str | None] = self.control("POST", "convert-lead", body)
        return result

    def expire_sessions(self) -> int:
        return int(self.control("POST", "sessions/expire")["expired"])

    def set_settings(self, **changes: Any) -> dict[str, Any]:
        """``timezone``, ``now`` (freeze the org clock; None for real time), ``session_seconds``."""
        result: dict[str, Any] = self.control("PUT", "settings", changes)
        return result

    def reset_controls(self) -> None:
        """Back to the settings the handle started with (no faults, full daily allocation,
        real clock, UTC, session lifetime, zeroed stats); the data stays."""
        self.clear_faults()
        self.set_daily_max(self.options.daily_max if self.options.daily_max is not None
                           else DEFAULT_DAILY_MAX, daily_used=0)
        self.set_settings(now=None, timezone=self.options.timezone or "UTC",
                          session_seconds=self.options.session_seconds
                          or DEFAULT_SESSION_SECONDS)
        self.reset_stats()

    # -------------------------------------------------------------- lifecycle

    def restart(self) -> None:
        """Stop and reopen the org from its data directory (same port when real)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.org.close()
        self.org = Org(self.data_dir, self.options)
        if self.real:
            self._start_server()
        else:
            self._app = EmulatorApp(self.org)
            self.org.base_url = INPROCESS_URL

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.org.close()


@contextmanager
def running_emulator(data_dir: Path, *, seed_dir: Path | None = None,
                     daily_max: int | None = None,
                     session_seconds: int | None = None) -> Iterator[EmulatorHandle]:
    """The real HTTPS emulator on 127.0.0.1 (free port), served from a background thread."""
    handle = EmulatorHandle(data_dir, OrgOptions(daily_max=daily_max,
                                                 session_seconds=session_seconds), real=True)
    try:
        if seed_dir is not None:
            load_seed(handle.org, seed_dir)
        yield handle
    finally:
        handle.close()


@contextmanager
def inprocess_emulator(data_dir: Path, *, seed_dir: Path | None = None,
                       daily_max: int | None = None,
                       session_seconds: int | None = None) -> Iterator[EmulatorHandle]:
    """The same org without a socket; use ``handle.session()`` to reach it."""
    handle = EmulatorHandle(data_dir, OrgOptions(daily_max=daily_max,
                                                 session_seconds=session_seconds), real=False)
    try:
        if seed_dir is not None:
            load_seed(handle.org, seed_dir)
        yield handle
    finally:
        handle.close()


def settings_for_org(env: dict[str, str], *, map_dir: Path | None = None,
                     state: Path | None = None, mappings: Path | None = None,
                     **salesforce: Any) -> Settings:
    """Connector settings for an emulated org (its ``connection.env`` values), a
    file export and a state database, read from nothing else: one place for the
    demo, the benchmarks and the tests."""
    import os

    from connector.config import (
        ConnectorSettings,
        HubSpotSettings,
        MapSettings,
        MarketoSettings,
        SalesforceSettings,
    )
    from connector.config import Settings as _Settings

    sf = SalesforceSettings(
        _env_file=None, instance_url=env["SF_INSTANCE_URL"], login_url=env["SF_LOGIN_URL"],
        client_id=env["SF_CLIENT_ID"], client_secret=env["SF_CLIENT_SECRET"],
        ca_bundle=env.get("SF_CA_BUNDLE") or None, **salesforce)
    connector: dict[str, Any] = {"state": state or Path(os.devnull)}
    if mappings is not None:
        connector["mappings"] = mappings
    return _Settings(
        salesforce=sf, map=MapSettings(_env_file=None, kind="files", files_dir=map_dir),
        marketo=MarketoSettings(_env_file=None), hubspot=HubSpotSettings(_env_file=None),
        connector=ConnectorSettings(_env_file=None, **connector))
