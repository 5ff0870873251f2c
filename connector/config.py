"""Settings from the environment, a ``.env`` file and an optional TOML file.

One settings class per integration, each with its env prefix (``SF_``, ``MAP_``,
``MARKETO_``, ``HUBSPOT_``, ``CONNECTOR_``). Precedence, highest first:
explicit arguments, environment, ``.env``, the TOML file named by
``CONNECTOR_CONFIG`` (one table per integration: ``[salesforce]``, ``[map]``,
``[marketo]``, ``[hubspot]``, ``[connector]``). Secrets are ``SecretStr`` so
they never show up in reprs, logs or the state database.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar, Literal
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
        section = doc.get(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [{table}] must be a table")
        self._data = section

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


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
    timeout_seconds: float = 120.0
    # The API budget: a run may spend at most this share of what is left of the
    # daily allocation, and at most budget_calls calls when set.
    budget_share: float = Field(default=0.5, gt=0, le=1)
    budget_calls: int | None = Field(default=None, gt=0)
    # Above this many records in one batch of writes, Bulk API 2.0 is used.
    bulk_threshold: int = Field(default=10_000, ge=1)
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
    timeout_seconds: float = 60.0


class HubSpotSettings(_Base):
    toml_table = "hubspot"
    model_config = SettingsConfigDict(env_prefix="HUBSPOT_", env_file=".env", extra="ignore")

    base_url: str = "https://api.hubapi.com"
    token: SecretStr | None = None
    # Calls a single run may spend of the account's daily limit.
    run_call_budget: int = Field(default=10_000, gt=0)
    timeout_seconds: float = 60.0


class ConnectorSettings(_Base):
    toml_table = "connector"
    model_config = SettingsConfigDict(env_prefix="CONNECTOR_", env_file=".env", extra="ignore")

    state: Path = Path(".connector/state.db")
    mappings: Path | None = None
    # A person at MQL or SAL who does not progress within this many days is recycled.
    sla_days: int = Field(default=30, gt=0)


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


def load_settings() -> Settings:
    """Read every settings class, turning validation errors into one ConfigError."""
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
            problems.append(f"{exc.title} {loc}: {err['msg']}")
        raise ConfigError(
            "invalid configuration:\n  " + "\n  ".join(problems),
            hint="check the environment, .env and the file named by CONNECTOR_CONFIG",
        ) from exc
