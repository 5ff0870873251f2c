"""OAuth flows (client credentials, JWT bearer, password), token expiry and errors."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, error_of


def token(handle: EmulatorHandle, **form: str) -> requests.Response:
    return handle.session().post(f"{handle.login_url}/services/oauth2/token", data=form,
                                 timeout=30)


def assertion(handle: EmulatorHandle, *, key: bytes | None = None, **claims: Any) -> str:
    body = {"iss": handle.client_id, "sub": handle.username, "aud": handle.login_url,
            "exp": f"{time.time() + 180:.0f}", **claims}
    return jwt.encode(body, key or handle.private_key_path.read_bytes(), algorithm="RS256")


def test_client_credentials_grant_returns_a_salesforce_token(emulator: EmulatorHandle) -> None:
    response = token(emulator, grant_type="client_credentials", client_id=emulator.client_id,
                     client_secret=emulator.client_secret)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "instance_url", "id", "token_type", "issued_at",
                         "signature", "scope"}
    org = emulator.org.credentials
    assert body["instance_url"] == emulator.instance_url and body["token_type"] == "Bearer"
    assert body["id"] == f"{emulator.login_url}/id/{org.org_id}/{org.user_id}"
    assert body["access_token"].startswith(org.org_id[:15] + "!")
    assert Api(emulator, body["access_token"]).get("limits").status_code == 200


def test_client_credentials_in_basic_auth_header(emulator: EmulatorHandle) -> None:
    basic = base64.b64encode(f"{emulator.client_id}:{emulator.client_secret}".encode()).decode()
    response = emulator.session().post(f"{emulator.login_url}/services/oauth2/token",
                                       data={"grant_type": "client_credentials"},
                                       headers={"Authorization": f"Basic {basic}"}, timeout=30)
    assert response.status_code == 200 and response.json()["access_token"]


def test_jwt_bearer_grant_with_the_emulator_key(emulator: EmulatorHandle) -> None:
    response = token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
                     assertion=assertion(emulator))
    assert response.status_code == 200, response.text
    assert Api(emulator, response.json()["access_token"]).get("limits").status_code == 200


def test_password_grant_needs_password_and_security_token(emulator: EmulatorHandle) -> None:
    good = token(emulator, grant_type="password", client_id=emulator.client_id,
                 client_secret=emulator.client_secret, username=emulator.username,
                 password=emulator.password + emulator.security_token)
    assert good.status_code == 200
    bad = token(emulator, grant_type="password", client_id=emulator.client_id,
                client_secret=emulator.client_secret, username=emulator.username,
                password=emulator.password)
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant",
                                                   "error_description": "authentication "
                                                                        "failure"})


def _other_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.mark.parametrize("make_form, error", [
    pytest.param(lambda h: {"grant_type": "client_credentials", "client_id": h.client_id,
                            "client_secret": "wrong"}, "invalid_client", id="wrong-secret"),
    pytest.param(lambda h: {"grant_type": "client_credentials", "client_id": "nobody",
                            "client_secret": h.client_secret}, "invalid_client",
                 id="unknown-client"),
    pytest.param(lambda h: {"grant_type": "password", "client_id": "nobody",
                            "client_secret": "x", "username": h.username, "password": "x"},
                 "invalid_client", id="password-unknown-client"),
    pytest.param(lambda h: {"grant_type": "magic"}, "unsupported_grant_type", id="grant-type"),
    pytest.param(lambda h: {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            "assertion": assertion(h, key=_other_key())}, "invalid_grant",
                 id="jwt-signed-by-another-key"),
    pytest.param(lambda h: {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            "assertion": assertion(h, aud="https://evil.example")},
                 "invalid_grant", id="jwt-wrong-audience"),
    pytest.param(lambda h: {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            "assertion": assertion(h, sub="someone@else")}, "invalid_grant",
                 id="jwt-unknown-user"),
    pytest.param(lambda h: {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            "assertion": assertion(h, exp=int(time.time()) - 5)},
                 "invalid_grant", id="jwt-expired"),
    pytest.param(lambda h: {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            "assertion": assertion(h, iss="another-app")},
                 "invalid_client_id", id="jwt-unknown-issuer"),
])
def test_token_errors(emulator: EmulatorHandle, make_form: Any, error: str) -> None:
    response = token(emulator, **make_form(emulator))
    assert response.status_code == 400 and response.json()["error"] == error


def test_invalid_client_body_matches_salesforce(emulator: EmulatorHandle) -> None:
    response = token(emulator, grant_type="client_credentials", client_id="x", client_secret="y")
    assert response.json() == {"error": "invalid_client",
                               "error_description": "invalid client credentials"}


@pytest.mark.parametrize("headers, code", [
    pytest.param({}, "INVALID_AUTH_HEADER", id="no-header"),
    pytest.param({"Authorization": "Bearer not-a-token"}, "INVALID_SESSION_ID", id="unknown"),
])
def test_api_calls_without_a_valid_session_are_401(emulator: EmulatorHandle,
                                                   headers: dict[str, str], code: str) -> None:
    response = emulator.session().get(f"{emulator.instance_url}/services/data/v62.0/limits",
                                      headers=headers, timeout=30)
    assert (response.status_code, response.json()[0]["errorCode"]) == (401, code)


def test_expired_sessions_answer_invalid_session_id(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    assert api.get("limits").status_code == 200
    assert emulator.expire_sessions() >= 1
    assert error_of(api.get("limits")) == (401, "INVALID_SESSION_ID",
                                           "Session expired or invalid")
    stale = Salesforce(instance_url=emulator.instance_url, session_id=api.token,
                       session=emulator.session())
    with pytest.raises(SalesforceExpiredSession):
        stale.query("SELECT Id FROM Lead")


def test_tokens_expire_after_the_session_lifetime(emulator: EmulatorHandle) -> None:
    emulator.set_settings(session_seconds=1)
    try:
        api = Api(emulator)
        assert api.get("limits").status_code == 200
        time.sleep(1.1)
        assert error_of(api.get("limits"))[:2] == (401, "INVALID_SESSION_ID")
    finally:
        emulator.set_settings(session_seconds=7200)


def test_secrets_are_in_owner_only_files(emulator: EmulatorHandle) -> None:
    for name in ("org.db", "jwt_private_key.pem", "server_key.pem", "connection.env",
                 "credentials.json"):
        mode = (emulator.data_dir / name).stat().st_mode & 0o777
        assert mode == 0o600, name
    assert emulator.data_dir.stat().st_mode & 0o777 == 0o700
