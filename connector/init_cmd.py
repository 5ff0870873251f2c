"""``connector init [DIR]``: a first-run setup an admin edits instead of writing from scratch.

Writes ``DIR/connector.toml`` (every setting, commented, secrets left to the
environment) and ``DIR/mappings/`` (a copy of the bundled mappings to
customise), then says the next three steps. Never overwrites a file unless
``--force`` is given, so running it twice cannot lose an admin's edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connector.errors import ConfigError
from connector.mappings import bundled_dir

CONFIG_NAME = "connector.toml"
MAPPINGS_DIR = "mappings"

_TEMPLATE = '''\
# connector.toml: settings for the MAP <-> Salesforce connector.
# Used when CONNECTOR_CONFIG names this file:
#   export CONNECTOR_CONFIG={config}
# Precedence, highest first: environment variables, a .env file in the working
# directory, this file. Keys are the variable names without their prefix
# (SF_CLIENT_ID -> [salesforce] client_id). Keep secrets (client secrets,
# passwords, tokens) in the environment or a secret store, not in this file.

[salesforce]
# Token endpoint: your My Domain, https://test.salesforce.com for a sandbox.
login_url = "https://login.salesforce.com"
# instance_url = "https://acme.my.salesforce.com"   # needed with SF_ACCESS_TOKEN
# OAuth client credentials flow (recommended): the connected app's consumer key;
# its secret goes in SF_CLIENT_SECRET.
# client_id = "3MVG9..."
# JWT bearer flow instead: client_id above, plus
# username = "integration@acme.com"
# private_key_file = "/etc/connector/server.key"
# ca_bundle = "/etc/connector/ca.pem"   # only for a private CA (e.g. the emulator)
api_version = "62.0"
# Share of what is left of today's API allocation one run may spend (0-1].
budget_share = 0.5
# budget_calls = 20000                  # absolute cap on a run's API calls
# Batches of this many records or more go through Bulk API 2.0.
bulk_threshold = 10000
# IANA time zone of the org, for date-only fields.
org_timezone = "UTC"

[map]
# files | marketo | hubspot
kind = "files"
# For kind = "files": the directory holding people, programs and touches
# (.csv or .jsonl) and optionally target_accounts.
# files_dir = "/data/map-export"

[marketo]
# base_url = "https://123-ABC-456.mktorest.com"
# identity_url = "https://123-ABC-456.mktorest.com/identity"
# client_id = "..."                     # the secret goes in MARKETO_CLIENT_SECRET
# run_call_budget = 10000
# initial_lookback_days = 365

[hubspot]
# base_url = "https://api.hubapi.com"   # the private app token goes in HUBSPOT_TOKEN
# run_call_budget = 10000

[connector]
# The SQLite state database (keep it on persistent storage, mode 600).
state = "{state}"
# The mappings to customise (a file missing there falls back to the bundled one).
mappings = "{mappings}"
'''


@dataclass(frozen=True)
class InitResult:
    directory: Path
    written: list[Path]
    next_steps: list[str]


def init_project(directory: Path, *, force: bool = False) -> InitResult:
    """Write the config and the mappings copy; refuse to overwrite without ``force``."""
    directory = directory.expanduser().resolve()
    config = directory / CONFIG_NAME
    mappings = directory / MAPPINGS_DIR
    sources = sorted(p for p in bundled_dir().iterdir() if p.suffix == ".yaml")
    targets = [config, *(mappings / p.name for p in sources)]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{len(existing)} file(s) already exist: "
            + ", ".join(str(p) for p in existing[:5]) + (" ..." if len(existing) > 5 else ""),
            hint="nothing was written; pass --force to overwrite them, or choose another "
                 "directory")
    mappings.mkdir(parents=True, exist_ok=True)
    config.write_text(_TEMPLATE.format(
        config=config, state=directory / ".connector" / "state.db", mappings=mappings),
        encoding="utf-8")
    written = [config]
    for source in sources:
        target = mappings / source.name
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(target)
    metadata = directory / "salesforce-metadata"
    steps = [
        f"Set CONNECTOR_CONFIG={config} and the credentials (SF_CLIENT_ID/SF_CLIENT_SECRET, "
        f"MAP_FILES_DIR or the Marketo/HubSpot ones), then deploy the fields: "
        f"`connector schema export --out {metadata}` and "
        f"`sf project deploy start -d {metadata / 'force-app'}`; assign the permission set "
        f"MAP_Connector_Integration to the integration user (with the Marketing User flag).",
        "Check everything the sync needs: `connector doctor` (exit 0 means ready).",
        "Rehearse: `connector sync --dry-run` prints the plan and the API calls it would "
        "spend, writing nothing to Salesforce.",
    ]
    return InitResult(directory, written, steps)
