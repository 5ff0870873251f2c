"""Settings from the environment, a ``.env`` file and an optional TOML file.

One settings class per integration, each with its env prefix (``SF_``, ``MAP_``,
``MARKETO_``, ``HUBSPOT_``, ``CONNECTOR_``). Precedence, highest first:
explicit arguments, environment, ``.env``, the TOML file named by
``CONNECTOR_CONFIG`` (one table per integration: ``[salesforce]``, ``[map]``,
``[marketo]``, ``[hubspot]``, ``[connector]``). Secrets are ``SecretStr`` so
they never show up in reprs, logs or the state database.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from connector.errors import ConfigError


class _TomlTableSource(PydanticBaseSettingsSource):
    """Reads one table of the file named by ``CONNECTOR_CONFIG``."""

    def __init__(self, settings_cls: type[BaseSettings], table: str) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        path = os.environ.get("CONNECTOR_CONFIG")
        if not path:
            return
        try:
            with open(path, "rb") as fh:
                doc = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(
                f"CONNECTOR_CONFIG names {path}, which does not exist",
                hint="fix the path or unset CONNECTOR_CONFIG",
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        unknown_tables = sorted(set(doc) - set(TOML_TABLES))
        if unknown_tables:
            raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown_tables)}",
                              hint=f"the tables are {', '.join(TOML_TABLES)}")
        section = doc.get(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [{table}] must be a table")
        unknown = sorted(set(section) - set(settings_cls.model_fields))
        if unknown:
            raise ConfigError(
                f"{path}: [{table}] has no setting {', '.join(unknown)}",
                hint=_did_you_mean(unknown[0], settings_cls.model_fields) or
                f"known keys: {', '.join(sorted(settings_cls.model_fields))}")
        self._data = section

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


TOML_TABLES = ("salesforce", "map", "marketo", "hubspot", "connector")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _did_you_mean(name: str, known: Any) -> str | None:
    close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1)
    return f"did you mean {close[0]}?" if close else None


def require_https(value: str | None, what: str, *, loopback_http: bool) -> str | None:
    """A base URL that secrets are sent to: ``https://`` only. Plain ``http://``
    would send client secrets and bearer tokens in clear text; it is allowed
    only for a loopback host (a local fake or proxy), where nothing leaves the
    machine, and only where ``loopback_http`` says so."""
    if value is None:
        return value
    value = value.strip().rstrip("/")
    parsed = urlsplit(value)
    if parsed.scheme == "https" and parsed.hostname:
        return value
    if loopback_http and parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
        return value
    raise ValueError(f"{what} must start with https:// (got {value!r}); secrets are never "
                     f"sent over plain HTTP")


class _Base(BaseSettings):
    toml_table: ClassVar[str] = ""
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_file_encoding="utf-8")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            _TomlTableSource(settings_cls, cls.toml_table),
        )


AuthFlow = Literal["client_credentials", "jwt_bearer", "password", "access_token"]


class SalesforceSettings(_Base):
    """How to reach the org, and how much of its API allocation a run may spend."""

    toml_table = "salesforce"
    model_config = SettingsConfigDict(env_prefix="SF_", env_file=".env", extra="ignore")

    instance_url: str | None = None
    login_url: str = "https://login.salesforce.com"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    private_key_file: Path | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    access_token: SecretStr | None = None
    ca_bundle: Path | None = None
    api_version: str = "62.0"
    timeout_seconds: float = Field(default=120.0, gt=0)
    # The API budget: a run may spend at most this share of what is left of the
    # daily allocation, and at most budget_calls calls when set.
    budget_share: float = Field(default=0.5, gt=0, le=1)
    budget_calls: int | None = Field(default=None, gt=0)
    # Unset: each batch of writes goes through whichever of Collections or Bulk
    # API 2.0 costs fewer API calls. Set: batches of this many records or more
    # always use Bulk 2.0, smaller ones Collections (an override).
    bulk_threshold: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=200, ge=1, le=200)
    max_attempts: int = Field(default=6, ge=1)
    # Date-only fields (FirstRespondedDate and friends) are derived in this zone.
    org_timezone: str = "UTC"

    @field_validator("instance_url", "login_url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.rstrip("/")
        if not v.startswith("https://"):
            raise ValueError("must start with https:// (Salesforce only speaks HTTPS)")
        return v

    @field_validator("api_version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not re.fullmatch(r"\d{2,3}\.0", v.strip()):
            raise ValueError(f"{v!r} is not a Salesforce API version (e.g. 62.0)")
        return v.strip()

    @field_validator("ca_bundle", "private_key_file")
    @classmethod
    def _readable_file(cls, v: Path | None) -> Path | None:
        if v is None:
            return v
        if not v.is_file():
            raise ValueError(f"{v} does not exist or is not a file")
        if not os.access(v, os.R_OK):
            raise ValueError(f"{v} is not readable by this user")
        return v

    @field_validator("org_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (use an IANA name, e.g. Europe/Paris)") \
                from exc
        return v

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.org_timezone)

    def auth_flow(self) -> AuthFlow:
        """The flow the configured variables select, most capable first."""
        if self.client_id and self.username and self.private_key_file:
            return "jwt_bearer"
        # a password is only ever set for the (legacy) password flow, which also
        # needs the client id and secret, so it decides before client credentials
        if self.username and self.password:
            return "password"
        if self.client_id and self.client_secret:
            return "client_credentials"
        if self.access_token:
            return "access_token"
        raise ConfigError(
            "no Salesforce credentials configured",
            hint="set SF_CLIENT_ID and SF_CLIENT_SECRET (client credentials), "
            "SF_CLIENT_ID, SF_USERNAME and SF_PRIVATE_KEY_FILE (JWT bearer), "
            "SF_USERNAME and SF_PASSWORD (legacy), or SF_ACCESS_TOKEN",
        )


class MapSettings(_Base):
    toml_table = "map"
    model_config = SettingsConfigDict(env_prefix="MAP_", env_file=".env", extra="ignore")

    kind: Literal["files", "marketo", "hubspot"] = "files"
    files_dir: Path | None = None


class MarketoSettings(_Base):
    toml_table = "marketo"
    model_config = SettingsConfigDict(env_prefix="MARKETO_", env_file=".env", extra="ignore")

    base_url: str | None = None
    identity_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Calls a single run may spend of the instance's daily quota (50,000 by default).
    run_call_budget: int = Field(default=10_000, gt=0)
    # How far back the first run reads activities.
    initial_lookback_days: int = Field(default=365, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("base_url", "identity_url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        return require_https(v, "the Marketo URL", loopback_http=True)


class HubSpotSettings(_Base):
    toml_table = "hubspot"
    model_config = SettingsConfigDict(env_prefix="HUBSPOT_", env_file=".env", extra="ignore")

    base_url: str = "https://api.hubapi.com"
    token: SecretStr | None = None
    # Calls a single run may spend of the account's daily limit.
    run_call_budget: int = Field(default=10_000, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _https(cls, v: str) -> str:
        return require_https(v, "HUBSPOT_BASE_URL", loopback_http=True) or v


class ConnectorSettings(_Base):
    toml_table = "connector"
    model_config = SettingsConfigDict(env_prefix="CONNECTOR_", env_file=".env", extra="ignore")

    state: Path = Path(".connector/state.db")
    mappings: Path | None = None

    @field_validator("mappings")
    @classmethod
    def _mappings_dir(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_dir():
            raise ValueError(f"{v} is not a directory (CONNECTOR_MAPPINGS names the "
                             f"directory of mapping YAML; unset it for the bundled ones)")
        return v

    @field_validator("state")
    @classmethod
    def _state_writable(cls, v: Path) -> Path:
        if v.exists():
            if v.is_dir():
                raise ValueError(f"{v} is a directory; name the database file")
            if not os.access(v, os.R_OK | os.W_OK):
                raise ValueError(f"{v} is not readable and writable by this user")
            return v
        parent = v.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ValueError(f"cannot create {v}: {parent} is not a writable directory")
        return v


@dataclass(frozen=True)
class Settings:
    salesforce: SalesforceSettings
    map: MapSettings
    marketo: MarketoSettings
    hubspot: HubSpotSettings
    connector: ConnectorSettings

    def __post_init__(self) -> None:
        from connector.redact import register_settings

        register_settings((self.salesforce, self.map, self.marketo, self.hubspot,
                           self.connector))


ENV_PREFIXES: dict[str, type[_Base]] = {"SF_": SalesforceSettings, "MAP_": MapSettings,
                "CONNECTOR_": ConnectorSettings, "MARKETO_": MarketoSettings,
                "HUBSPOT_": HubSpotSettings}
# read straight from the environment (so they work before settings load)
NOT_SETTINGS = frozenset({"CONNECTOR_CONFIG", "CONNECTOR_METRICS_FILE", "CONNECTOR_LOG_FORMAT"})


def unknown_env_vars(environ: Mapping[str, str] | None = None) -> list[str]:
    """``SF_``/``MAP_``/``CONNECTOR_``/... variables no setting reads, each with a
    suggestion: a typo such as ``SF_BUDGET_SHAR`` would otherwise be ignored."""
    env = os.environ if environ is None else environ
    out = []
    for name in sorted(env):
        upper = name.upper()
        for prefix, cls in ENV_PREFIXES.items():
            if not upper.startswith(prefix) or upper in NOT_SETTINGS:
                continue
            field = upper[len(prefix):].lower()
            fields = list(cls.model_fields)
            if field not in fields:
                close = difflib.get_close_matches(field, fields, n=1)
                suggestion = f" (did you mean {prefix}{close[0].upper()}?)" if close else ""
                out.append(f"{name} is not a setting{suggestion}; it is ignored")
            break
    return out


def load_settings() -> Settings:
    """Read every settings class, turning validation errors into one ConfigError."""
    for warning in unknown_env_vars():
        logging.getLogger("connector.config").warning("%s", warning)
    try:
        return Settings(
            salesforce=SalesforceSettings(),
            map=MapSettings(),
            marketo=MarketoSettings(),
            hubspot=HubSpotSettings(),
            connector=ConnectorSettings(),
        )
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            prefix = {c.__name__: k for k, c in ENV_PREFIXES.items()}.get(exc.title, "")
            name = f"{prefix}{loc.upper()} ({loc})" if prefix else f"{exc.title} {loc}"
            problems.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError(
            "invalid configuration:\n  " + "\n  ".join(problems),
            hint="check the environment, .env and the file named by CONNECTOR_CONFIG",
        ) from exc
