"""What a client needs to reach a running emulator, as ``SF_*`` variables and files.

``connection.env`` carries the client-credentials setup the connector uses by
default; ``credentials.json`` adds the username, password, security token and
JWT key path for the other OAuth flows. Both hold secrets: mode 0600.
"""

from __future__ import annotations

import json
from pathlib import Path

from connector.emulator.org import DEFAULT_API_VERSION, Org
from connector.emulator.store import write_private_text

ENV_FILE = "connection.env"
CREDENTIALS_FILE = "credentials.json"


def connection_env(org: Org, url: str, ca_path: Path | None,
                   api_version: str = DEFAULT_API_VERSION) -> dict[str, str]:
    env = {"SF_INSTANCE_URL": url, "SF_LOGIN_URL": url,
           "SF_CLIENT_ID": org.credentials.client_id,
           "SF_CLIENT_SECRET": org.credentials.client_secret,
           "SF_API_VERSION": api_version}
    if ca_path is not None:
        env["SF_CA_BUNDLE"] = str(ca_path.resolve())
    return env


def write_connection_files(org: Org, url: str, ca_path: Path) -> Path:
    """Write ``connection.env`` and ``credentials.json`` into the data directory."""
    env = connection_env(org, url, ca_path)
    lines = ["# Written by `connector emulator serve`: the local org's connection settings."]
    lines += [f"{k}={v}" for k, v in env.items()]
    env_path = org.data_dir / ENV_FILE
    write_private_text(env_path, "\n".join(lines) + "\n")
    creds = org.credentials
    write_private_text(org.data_dir / CREDENTIALS_FILE, json.dumps({
        "instance_url": url, "login_url": url, "client_id": creds.client_id,
        "client_secret": creds.client_secret, "username": creds.username,
        "password": creds.password, "security_token": creds.security_token,
        "private_key_file": str(org.private_key_path.resolve()),
        "ca_bundle": str(ca_path.resolve())}, indent=2) + "\n")
    return env_path
