"""Logging for people (the default) and for log pipelines (``--log-format json``).

In JSON mode every record is one JSON object on one line of stderr with
``time``, ``level``, ``logger``, ``message`` and, when known, ``run_id``,
``phase`` and ``counts``, so Loki, CloudWatch or journald can index runs
without parsing prose. Progress goes through :class:`LoggingReporter` (no
progress bars, which would break the one-object-per-line promise).

Secrets never reach a log line: every record passes through :class:`Redactor`,
which blanks the values of the configured secret settings and anything shaped
like a bearer token or a secret query/form parameter, whatever the formatter.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from connector.run.status import RunStatus

LogFormat = Literal["text", "json"]
ENV_VAR = "CONNECTOR_LOG_FORMAT"
REDACTED = "***"

_run_id: ContextVar[int | None] = ContextVar("connector_run_id", default=None)
_phase: ContextVar[str | None] = ContextVar("connector_phase", default=None)

# Shapes a secret takes in messages from HTTP libraries and our own errors.
_SECRET_SHAPES = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=!-]+"),
    re.compile(r"(?i)((?:access_token|refresh_token|client_secret|password|assertion|"
               r"security_token|token|hapikey)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"),
)


def resolve_format(option: str | None) -> LogFormat:
    """The flag wins, then ``CONNECTOR_LOG_FORMAT``, then human-readable text."""
    value = (option or os.environ.get(ENV_VAR) or "text").strip().lower()
    if value not in ("text", "json"):
        from connector.errors import ConfigError

        raise ConfigError(f"unknown log format {value!r}",
                          hint=f"use --log-format text|json (or {ENV_VAR}=text|json)")
    return "json" if value == "json" else "text"


def bind_run(run_id: int | None) -> None:
    """Stamp later records with this run id (set when the run starts)."""
    _run_id.set(run_id)


def current_run_id() -> int | None:
    return _run_id.get()


def track_runs(store: Any) -> None:
    """Bind the run id as soon as the store opens a run.

    The sync core owns ``start_run``; wrapping the store instance here keeps
    the logging concern out of it.
    """
    start_run = store.start_run

    def start_and_bind(*args: Any, **kwargs: Any) -> int:
        run_id = int(start_run(*args, **kwargs))
        bind_run(run_id)
        return run_id

    setattr(store, "start_run", start_and_bind)  # noqa: B010 - mypy forbids method assignment


def bind_phase(phase: str | None) -> None:
    _phase.set(phase)


class Redactor(logging.Filter):
    """Blanks secrets in a record's message and arguments before any handler sees it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # longest first, so a secret containing another is blanked whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for shape in _SECRET_SHAPES:
            text = shape.sub(lambda m: m.group(1) + REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.scrub(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # the traceback text is rendered later; keep its summary only, scrubbed
            record.exc_text = self.scrub(f"{type(record.exc_info[1]).__name__}: "
                                         f"{record.exc_info[1]}")
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", None) or _run_id.get(),
            "phase": getattr(record, "phase", None) or _phase.get(),
            "message": record.getMessage(),
        }
        counts = getattr(record, "counts", None)
        if counts is not None:
            data["counts"] = counts
        if record.exc_text:
            data["error"] = record.exc_text
        return json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configured_secrets() -> list[str]:
    """The values of every secret setting, read the way the settings read them."""
    secrets: list[str] = []
    try:
        from pydantic import SecretStr

        from connector.config import load_settings

        settings = load_settings()
        for part in (settings.salesforce, settings.marketo, settings.hubspot):
            for name in type(part).model_fields:
                value = getattr(part, name)
                if isinstance(value, SecretStr):
                    secrets.append(value.get_secret_value())
    except Exception as exc:
        # a broken configuration is reported by the command itself; the shapes
        # below still catch tokens and secret parameters
        logging.getLogger(__name__).debug("no secrets to redact: %s", type(exc).__name__)
    return secrets


class _Redacted(logging.Formatter):
    """The finished line (tracebacks included) through ``connector.redact``,
    which also knows the tokens obtained at run time."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        from connector.redact import redact

        return redact(self.inner.format(record))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (test
    runners and Typer's CliRunner swap it), never to a stream closed since."""

    _connector = True

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(fmt: LogFormat, *, verbose: bool = False,
                  secrets: Iterable[str] | None = None) -> None:
    """Route every logger to stderr in the chosen format, through the redactor.

    JSON logs default to INFO (machines want the run's events); text logs to
    WARNING unless ``--verbose``.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_connector", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_Redacted(JsonFormatter() if fmt == "json" else TextFormatter()))
    handler.addFilter(Redactor(configured_secrets() if secrets is None else secrets))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose or fmt == "json" else logging.WARNING)
    for noisy in ("urllib3", "httpx", "httpcore", "cheroot", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


_events = logging.getLogger("connector.run")


class LoggingReporter:
    """A ``connector.run.sync.Reporter`` for log pipelines: each phase is one record."""

    def __init__(self) -> None:
        self._phase: str | None = None
        self._done = 0

    def phase(self, name: str, total: int | None = None) -> None:
        self._flush()
        self._phase, self._done = name, 0
        bind_phase(name)
        _events.info("%s", name, extra={"phase": name,
                                        "counts": {"total": total} if total else None})

    def advance(self, n: int = 1) -> None:
        self._done += n

    def note(self, message: str) -> None:
        _events.info("%s", message)

    def done(self) -> None:
        self._flush()
        bind_phase(None)

    def _flush(self) -> None:
        if self._phase is not None and self._done:
            _events.info("%s: %d done", self._phase, self._done,
                         extra={"phase": self._phase, "counts": {"done": self._done}})
        self._phase, self._done = None, 0


def log_run_finished(summary: dict[str, Any]) -> None:
    """The run's outcome as one record, with the counts a dashboard needs."""
    objects = summary.get("objects") or {}
    counts = {
        "created": sum(o.get("created", 0) for o in objects.values()),
        "updated": sum(o.get("updated", 0) for o in objects.values()),
        "failed": sum(o.get("failed", 0) for o in objects.values()),
        "api_calls": summary.get("api_calls", 0),
        "dead_letters": summary.get("dead_letters", 0),
    }
    quiet = (RunStatus.OK, RunStatus.DRY_RUN)
    level = logging.INFO if summary.get("status") in quiet else logging.WARNING
    _events.log(level, "run %s finished: %s", summary.get("run_id"), summary.get("status"),
                extra={"run_id": summary.get("run_id"), "phase": "finished", "counts": counts})
