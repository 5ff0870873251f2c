"""One emulated org living in a data directory: schema, records, identity, settings.

Opening a directory twice gives the same org: records, ids, credentials, keys,
sessions and API usage all persist. Everything HTTP-shaped lives in ``app.py``;
this is the state it serves.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.emulator.auth import (
    DEFAULT_SESSION_SECONDS,
    PRIVATE_KEY_FILE,
    Auth,
    Credentials,
    bootstrap_ids,
    ensure_key_pair,
)
from connector.emulator.dml import RecordFault, WriteEnv, Writer
from connector.emulator.faults import Faults
from connector.emulator.influence import ensure_influence_models
from connector.emulator.schema import Schema, format_datetime, parse_datetime
from connector.emulator.store import Store
from connector.emulator.usage import DEFAULT_DAILY_MAX, Usage
from connector.mappings import bundled_dir, load_mappings

DEFAULT_API_VERSION = "62.0"
MIN_API_VERSION, MAX_API_VERSION = 50, 66
DB_FILE = "org.db"


_SCHEMAS: dict[tuple[str, float], Schema] = {}
_SCHEMAS_LOCK = threading.Lock()


def schema_for(mappings_dir: Path | None) -> Schema:
    """The schema for a mappings directory, built once per process and per file version
    (parsing the YAML dominates an org's start-up; tests start hundreds of orgs)."""
    directory = mappings_dir or bundled_dir()
    stamp = max((p.stat().st_mtime for p in directory.glob("*.yaml")), default=0.0)
    key = (str(directory.resolve()), stamp)
    with _SCHEMAS_LOCK:
        schema = _SCHEMAS.get(key)
        if schema is None:
            schema = _SCHEMAS[key] = Schema.build(load_mappings(mappings_dir))
        return schema


def supported_version(version: str) -> bool:
    """Versions ``50.0`` .. ``66.0``, as the org's ``GET /services/data/`` lists them."""
    try:
        major, minor = version.split(".")
        return minor == "0" and MIN_API_VERSION <= int(major) <= MAX_API_VERSION
    except ValueError:
        return False


class Clock:
    """The org's time: real by default, frozen on request so tests control dates."""

    def __init__(self, timezone: str, frozen: datetime | None) -> None:
        self.timezone = timezone
        self.tz: tzinfo = ZoneInfo(timezone)
        self.frozen = frozen

    def now(self) -> datetime:
        return self.frozen if self.frozen is not None else datetime.now(UTC)


@dataclass(frozen=True)
class OrgOptions:
    """Settings given at start; ``None`` keeps what the data directory already has."""

    daily_max: int | None = None
    session_seconds: int | None = None
    timezone: str | None = None
    mappings_dir: Path | None = None


class Org:
    def __init__(self, data_dir: Path, options: OrgOptions | None = None) -> None:
        options = options or OrgOptions()
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        self.schema = schema_for(options.mappings_dir)
        self.store = Store(data_dir / DB_FILE, self.schema)
        self.credentials = self._bootstrap()
        ensure_influence_models(self.store, self.schema, self.credentials.user_id,
                                datetime.now(UTC))
        public_key = ensure_key_pair(data_dir)
        self.private_key_path = data_dir / PRIVATE_KEY_FILE
        settings = self._stored_settings()
        if options.daily_max is not None:
            settings["daily_max"] = options.daily_max
        if options.session_seconds is not None:
            settings["session_seconds"] = options.session_seconds
        if options.timezone is not None:
            settings["timezone"] = options.timezone
        self._validate_settings(settings)
        self.store.set_meta("settings", json.dumps(settings))
        frozen = parse_datetime(settings["frozen_now"]) if settings.get("frozen_now") else None
        self.clock = Clock(settings["timezone"], frozen)
        self.usage = Usage(self.store, int(settings["daily_max"]))
        self.auth = Auth(self.store, self.credentials, public_key,
                         int(settings["session_seconds"]))
        self.faults = Faults()
        self.base_url = ""
        self._ensure_organization(settings["timezone"])
        self._settings_lock = threading.Lock()

    # -------------------------------------------------------------- bootstrap

    def _bootstrap(self) -> Credentials:
        stored = self.store.get_meta("credentials")
        if stored:
            return Credentials.from_json(stored)
        org_id, user_id = bootstrap_ids()
        creds = Credentials.generate(org_id, user_id)
        now = format_datetime(datetime.now(UTC))
        with self.store.transaction():
            self.store.conn.execute(
                'INSERT INTO "User" (Id, IsDeleted, CreatedDate, CreatedById, LastModifiedDate, '
                "LastModifiedById, SystemModstamp, Username, FirstName, LastName, Name, Email, "
                "IsActive, TimeZoneSidKey) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (user_id, now, user_id, now, user_id, now, creds.username, "Integration", "User",
                 "Integration User", "integration@example.com", "UTC"))
            self.store.conn.execute("INSERT INTO _sequences (prefix, next) VALUES ('005', 2)")
            self.store.conn.execute(
                "INSERT INTO _meta (key, value) VALUES ('credentials', ?)", (creds.to_json(),))
        self.store._sequences["005"] = 2
        return creds

    def _ensure_organization(self, timezone: str) -> None:
        """The one ``Organization`` row (also added to an org kept from an older version)."""
        now = format_datetime(datetime.now(UTC))
        user = self.credentials.user_id
        with self.store.transaction():
            self.store.conn.execute(
                'INSERT OR IGNORE INTO "Organization" (Id, IsDeleted, CreatedDate, CreatedById, '
                "LastModifiedDate, LastModifiedById, SystemModstamp, Name, InstanceName, "
                "IsSandbox, OrganizationType, NamespacePrefix, Country, LanguageLocaleKey, "
                "DefaultLocaleSidKey, TimeZoneSidKey) "
                "VALUES (?, 0, ?, ?, ?, ?, ?, ?, 'EMU1', 0, 'Developer Edition', NULL, 'US', "
                "'en_US', 'en_US', ?)",
                (self.credentials.org_id, now, user, now, user, now, "Emulated Org", timezone))

    def _stored_settings(self) -> dict[str, Any]:
        stored = self.store.get_meta("settings")
        settings: dict[str, Any] = {"daily_max": DEFAULT_DAILY_MAX,
                                    "session_seconds": DEFAULT_SESSION_SECONDS,
                                    "timezone": "UTC", "frozen_now": None}
        if stored:
            settings.update(json.loads(stored))
        return settings

    @staticmethod
    def _validate_settings(settings: dict[str, Any]) -> None:
        if not isinstance(settings.get("daily_max"), int) or settings["daily_max"] < 0:
            raise ValueError("daily_max must be a non-negative integer")
        if not isinstance(settings.get("session_seconds"), int) \
                or settings["session_seconds"] <= 0:
            raise ValueError("session_seconds must be a positive integer")
        try:
            ZoneInfo(str(settings.get("timezone")))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {settings.get('timezone')!r}") from None
        if settings.get("frozen_now"):
            parse_datetime(str(settings["frozen_now"]))

    # -------------------------------------------------------------- settings

    def settings(self) -> dict[str, Any]:
        return {"timezone": self.clock.timezone,
                "now": format_datetime(self.clock.frozen) if self.clock.frozen else None,
                "session_seconds": self.auth.session_seconds,
                "daily_max": self.usage.daily_max}

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change time zone, frozen clock (``now``; null for real time), session lifetime."""
        unknown = set(changes) - {"timezone", "now", "session_seconds", "daily_max"}
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        with self._settings_lock:
            settings = self._stored_settings()
            if "timezone" in changes:
                settings["timezone"] = changes["timezone"]
            if "now" in changes:
                settings["frozen_now"] = changes["now"]
            if "session_seconds" in changes:
                settings["session_seconds"] = changes["session_seconds"]
            if "daily_max" in changes:
                settings["daily_max"] = changes["daily_max"]
            try:
                self._validate_settings(settings)
            except (TypeError, ValueError) as exc:
                raise ValueError(str(exc)) from None
            if settings.get("frozen_now"):
                settings["frozen_now"] = format_datetime(parse_datetime(settings["frozen_now"]))
            self.store.set_meta("settings", json.dumps(settings))
            frozen = parse_datetime(settings["frozen_now"]) if settings["frozen_now"] else None
            self.clock = Clock(settings["timezone"], frozen)
            self.auth.session_seconds = int(settings["session_seconds"])
            self.usage.daily_max = int(settings["daily_max"])
        return self.settings()

    # ----------------------------------------------------------------- writes

    def writer(self, *, privileged: bool = False,
               record_fault: RecordFault | None = None) -> Writer:
        """A writer for one call: one timestamp for all of its records, as a transaction has."""
        clock = self.clock
        env = WriteEnv(self.store, self.schema, self.credentials.user_id, clock.now(), clock.tz)
        return Writer(env, privileged=privileged, record_fault=record_fault)

    def close(self) -> None:
        self.store.close()
