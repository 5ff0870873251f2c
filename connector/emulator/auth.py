"""OAuth for the emulated org: the connected app, its integration user, and sessions.

Three grants, as a Salesforce connected app offers them: client credentials (run
as the integration user), JWT bearer (an RS256 assertion checked against the
public key registered for the app) and username-password (password followed by
the security token). Sessions live in the database (hashed) so a restarted
emulator still honours them, and expire after a configurable lifetime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector import sfid as ids
from connector.emulator.store import Store, write_private_text

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PRIVATE_KEY_FILE = "jwt_private_key.pem"
PUBLIC_KEY_FILE = "jwt_public_key.pem"
DEFAULT_SESSION_SECONDS = 2 * 3600


@dataclass(frozen=True)
class Credentials:
    """The org's identity and the connected app's secrets, generated at first start."""

    org_id: str
    user_id: str
    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str

    @classmethod
    def generate(cls, org_id: str, user_id: str) -> Credentials:
        alnum = string.ascii_letters + string.digits
        return cls(
            org_id=org_id,
            user_id=user_id,
            username=f"integration@{org_id[:15].lower()}.emulator.local",
            password=secrets.token_urlsafe(18),
            security_token="".join(secrets.choice(alnum) for _ in range(24)),
            client_id="3MVG9" + "".join(secrets.choice(alnum + "._") for _ in range(80)),
            client_secret=secrets.token_hex(32).upper(),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Credentials:
        return cls(**json.loads(text))


def ensure_key_pair(data_dir: Path) -> bytes:
    """The connected app's certificate key pair; the private half (0600) is for clients."""
    private_path = data_dir / PRIVATE_KEY_FILE
    public_path = data_dir / PUBLIC_KEY_FILE
    if private_path.exists() and public_path.exists():
        return public_path.read_bytes()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private_text(private_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    public_path.write_bytes(public)
    return public


class TokenError(Exception):
    """An OAuth error response: ``{"error", "error_description"}`` with HTTP 400."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Session:
    user_id: str
    client_id: str
    expires_at: float


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Auth:
    """Grants tokens and recognizes them."""

    def __init__(self, store: Store, credentials: Credentials, public_key: bytes,
                 session_seconds: int) -> None:
        self.store = store
        self.credentials = credentials
        self.public_key = public_key
        self.session_seconds = session_seconds
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        for token_hash, user_id, client_id, expires_at in store.execute(
                "SELECT token_hash, user_id, client_id, expires_at FROM _sessions").fetchall():
            self._sessions[token_hash] = Session(user_id, client_id, expires_at)

    # ----------------------------------------------------------------- grants

    def grant(self, form: Mapping[str, str], basic: tuple[str, str] | None,
              login_url: str, instance_url: str) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        creds = self.credentials
        if grant_type == "client_credentials":
            client_id, client_secret = basic or (form.get("client_id", ""),
                                                 form.get("client_secret", ""))
            self._check_client(client_id, client_secret)
        elif grant_type == "password":
            self._check_client(form.get("client_id", ""), form.get("client_secret", ""))
            given = form.get("password", "")
            if not (_same(form.get("username", ""), creds.username)
                    and (_same(given, creds.password + creds.security_token))):
                raise TokenError("invalid_grant", "authentication failure")
        elif grant_type == JWT_GRANT:
            self._check_assertion(form.get("assertion", ""), login_url)
        else:
            raise TokenError("unsupported_grant_type", "grant type not supported")
        token = self._issue(creds.client_id)
        issued_at = str(int(time.time() * 1000))
        identity = f"{login_url}/id/{creds.org_id}/{creds.user_id}"
        signature = base64.b64encode(hmac.new(
            creds.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256,
        ).digest()).decode()
        return {"access_token": token, "instance_url": instance_url, "id": identity,
                "token_type": "Bearer", "issued_at": issued_at, "signature": signature,
                "scope": "api"}

    def _check_client(self, client_id: str, client_secret: str) -> None:
        if not (_same(client_id, self.credentials.client_id)
                and _same(client_secret, self.credentials.client_secret)):
            raise TokenError("invalid_client", "invalid client credentials")

    def _check_assertion(self, assertion: str, login_url: str) -> None:
        try:
            claims = jwt.decode(assertion, self.public_key, algorithms=["RS256"],
                                options={"verify_exp": False, "verify_aud": False,
                                         "verify_iat": False, "verify_nbf": False})
        except jwt.InvalidTokenError:
            raise TokenError("invalid_grant", "invalid assertion") from None
        if not _same(str(claims.get("iss", "")), self.credentials.client_id):
            raise TokenError("invalid_client_id", "client identifier invalid")
        if not _same(str(claims.get("sub", "")), self.credentials.username):
            raise TokenError("invalid_grant", "user hasn't approved this consumer")
        audiences = claims.get("aud")
        accepted = {login_url.rstrip("/"), "https://login.salesforce.com",
                    "https://test.salesforce.com"}
        aud_list = audiences if isinstance(audiences, list) else [audiences]
        if not any(isinstance(a, str) and a.rstrip("/") in accepted for a in aud_list):
            raise TokenError("invalid_grant", "audience is invalid")
        try:
            expires = float(claims["exp"])  # simple-salesforce sends it as a string
        except (KeyError, TypeError, ValueError):
            raise TokenError("invalid_grant", "invalid assertion") from None
        if expires < time.time():
            raise TokenError("invalid_grant", "expired authorization code")

    def _issue(self, client_id: str) -> str:
        token = f"{self.credentials.org_id[:15]}!{secrets.token_urlsafe(72)}"
        now = time.time()
        session = Session(self.credentials.user_id, client_id, now + self.session_seconds)
        token_hash = _hash(token)
        with self._lock:
            self._sessions[token_hash] = session
        with self.store.transaction():
            self.store.conn.execute(
                "DELETE FROM _sessions WHERE expires_at < ?", (now - 86400,))
            self.store.conn.execute(
                "INSERT INTO _sessions (token_hash, user_id, client_id, issued_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_hash, session.user_id, client_id, now, session.expires_at))
        return token

    # --------------------------------------------------------------- sessions

    def authenticate(self, token: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(_hash(token))
        if session is None or session.expires_at <= time.time():
            return None
        return session

    def expire_all(self) -> int:
        """Every token stops working, as when an admin revokes the app's sessions."""
        now = time.time()
        with self._lock:
            count = sum(1 for s in self._sessions.values() if s.expires_at > now)
            self._sessions = {h: Session(s.user_id, s.client_id, min(s.expires_at, now))
                              for h, s in self._sessions.items()}
        with self.store.transaction():
            self.store.conn.execute("UPDATE _sessions SET expires_at = MIN(expires_at, ?)", (now,))
        return count


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic base64(id:secret)``, the client-credentials form of RFC 6749."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        return None
    return token.strip()


def bootstrap_ids() -> tuple[str, str]:
    """The org id and integration user id of a brand new org."""
    return ids.make_id("00D", 1), ids.make_id("005", 1)
