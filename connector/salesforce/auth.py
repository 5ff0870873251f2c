"""Getting a Salesforce session: OAuth 2.0 flows and a ready token.

The connector obtains the token itself (simple-salesforce only refreshes
sessions it created) and hands ``session_id`` + ``instance_url`` to
simple-salesforce. Supported, recommended first: client credentials, JWT bearer,
the legacy OAuth username-password flow, and a ready access token (no refresh).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import requests

from connector.config import SalesforceSettings
from connector.errors import AuthError, ConfigError, ConnectionFailure
from connector.salesforce.net_errors import ca_bundle_in_use, connection_reason


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url.strip())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    issued_at: float

    def __post_init__(self) -> None:
        from connector.redact import register

        register(self.access_token)  # masked in every message from now on

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(instance_url={self.instance_url!r}, issued_at={self.issued_at})"


_FLOW_SETTINGS = {
    "client_credentials": "SF_CLIENT_ID and SF_CLIENT_SECRET (and that the connected app "
                          "enables the client credentials flow with a run-as user)",
    "jwt_bearer": "SF_CLIENT_ID, SF_USERNAME and SF_PRIVATE_KEY_FILE (the certificate "
                  "uploaded to the connected app must match the key)",
    "password": "SF_USERNAME, SF_PASSWORD and SF_SECURITY_TOKEN (and SF_CLIENT_ID/SECRET)",
    "access_token": "SF_ACCESS_TOKEN (it may have expired; it cannot be refreshed)",
}


class Authenticator:
    """Obtains (and re-obtains) a token with the flow the settings select."""

    def __init__(self, settings: SalesforceSettings, http: requests.Session) -> None:
        self.settings = settings
        self.http = http
        self.flow = settings.auth_flow()

    @property
    def can_refresh(self) -> bool:
        return self.flow != "access_token"

    def settings_hint(self) -> str:
        return f"check {_FLOW_SETTINGS[self.flow]}; SF_LOGIN_URL is {self.settings.login_url}"

    def obtain(self) -> Token:
        s = self.settings
        if self.flow == "access_token":
            assert s.access_token is not None
            if not s.instance_url:
                raise ConfigError("SF_ACCESS_TOKEN needs SF_INSTANCE_URL")
            return Token(s.access_token.get_secret_value(), s.instance_url, time.time())
        data: dict[str, str]
        if self.flow == "client_credentials":
            assert s.client_id and s.client_secret
            data = {
                "grant_type": "client_credentials",
                "client_id": s.client_id,
                "client_secret": s.client_secret.get_secret_value(),
            }
        elif self.flow == "jwt_bearer":
            data = {"grant_type": JWT_GRANT, "assertion": self._jwt_assertion()}
        else:
            assert s.username and s.password
            password = s.password.get_secret_value()
            if s.security_token:
                password += s.security_token.get_secret_value()
            data = {
                "grant_type": "password",
                "client_id": s.client_id or "",
                "client_secret": s.client_secret.get_secret_value() if s.client_secret else "",
                "username": s.username,
                "password": password,
            }
        return self._post_token(data)

    def _jwt_assertion(self) -> str:
        s = self.settings
        assert s.private_key_file and s.client_id and s.username
        try:
            key = Path(s.private_key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read SF_PRIVATE_KEY_FILE {s.private_key_file}: {exc.strerror}"
            ) from exc
        claims = {
            "iss": s.client_id,
            "sub": s.username,
            "aud": s.login_url,
            "exp": int(time.time()) + 180,
        }
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"SF_PRIVATE_KEY_FILE {s.private_key_file} is not a usable RSA private key"
            ) from exc

    def _post_token(self, data: dict[str, str]) -> Token:
        url = self.settings.login_url + TOKEN_PATH
        try:
            response = self.http.post(
                url, data=data, timeout=self.settings.timeout_seconds,
                headers={"Accept": "application/json"},
            )
        except requests.exceptions.SSLError as exc:
            raise ConnectionFailure(
                f"cannot reach {self.settings.login_url}: {connection_reason(exc)} "
                f"(trusting {ca_bundle_in_use(self.settings.ca_bundle)})",
                hint="set SF_CA_BUNDLE to the CA that signed the server's certificate",
            ) from exc
        except requests.RequestException as exc:
            raise ConnectionFailure(
                f"cannot reach {self.settings.login_url}: {connection_reason(exc)}",
                hint="check SF_LOGIN_URL and the network",
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 500:
            raise ConnectionFailure(
                f"the token endpoint answered HTTP {response.status_code}",
                hint="Salesforce may be unavailable; try again later",
            )
        if response.status_code != 200 or "access_token" not in body:
            error = body.get("error", f"HTTP {response.status_code}") if isinstance(body, dict) \
                else f"HTTP {response.status_code}"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise AuthError(
                f"Salesforce refused the {self.flow.replace('_', ' ')} login: {error}"
                + (f" ({description})" if description else ""),
                hint=self.settings_hint(),
            )
        configured = self.settings.instance_url
        returned = str(body.get("instance_url") or "")
        if configured and returned and _origin(configured) != _origin(returned):
            raise ConfigError(
                f"SF_INSTANCE_URL is {configured}, but the org that logged in is at "
                f"{returned.rstrip('/')}",
                hint="fix SF_INSTANCE_URL (or unset it: the login says where the org is)")
        instance_url = str(returned or configured or "")
        if not instance_url.startswith("https://"):
            raise AuthError("the token response has no https instance_url",
                            hint="set SF_INSTANCE_URL")
        return Token(str(body["access_token"]), instance_url.rstrip("/"), time.time())
