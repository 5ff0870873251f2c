"""The connector's one error tree.

Whether an error is retriable, which exit code it maps to and whether it is a
per-record problem are properties of the class, so callers never test strings.
Every error the connector raises on purpose is defined here (the emulator's
models of Salesforce's own errors stay in ``connector.emulator``)::

    ConnectorError                       exit 1
    ├── ConfigError                      exit 2   bad settings, flags or files
    │   ├── MappingError                          a mappings/*.yaml problem (file, line, key)
    │   └── SeedError (connector.emulator.seed)   an emulator seed directory cannot be loaded
    ├── AuthError                        exit 3   credentials rejected, session cannot refresh
    ├── ConnectionFailure                exit 3   network down, TLS, DNS (retriable)
    ├── BudgetExhausted                  exit 4   stopped before spending past the API budget
    │   └── SourceBudgetExhausted        exit 4   ... the run's MAP call budget (also below)
    ├── SourceError                               a MAP could not be read
    │   ├── SourceFormatError            exit 2   a file export's header or shape is wrong
    │   ├── SourceRateLimited                     throttled; retriable after a pause
    │   ├── SourceUnavailable                     a MAP 5xx, timeout or unreadable body (retriable)
    │   │   ├── MarketoTransientError             Marketo's 5xx and 604/608/611/713
    │   │   └── HubSpotTransientError             HubSpot's 5xx
    │   ├── SourceTokenRejected                   Marketo 601/602: refresh the token, retry once
    │   ├── CheckpointNotReady                    a checkpoint asked for before the read ended
    │   └── SourceQuotaExhausted         exit 4   the MAP's daily quota is spent (resumable)
    │       └── SourceBudgetExhausted    exit 4   the run's own MAP call budget is spent
    ├── SalesforceError                           the org said no to a whole call
    │   ├── SalesforceApiError                    HTTP error with Salesforce's errorCode
    │   │   ├── SessionExpired                    401 INVALID_SESSION_ID: refresh, then retry once
    │   │   ├── QueryError               exit 2   MALFORMED_QUERY, INVALID_FIELD, ...
    │   │   └── RetriableApiError                 503, UNABLE_TO_LOCK_ROW, concurrent limit, 5xx
    │   ├── ApiLimitExceeded             exit 4   the org's daily API allocation is spent
    │   └── SchemaMismatch               exit 2   mapped fields missing or of the wrong type
    ├── DataError                                 one record is bad; the rest go on
    │   └── RowProblem                            a field of an export row is unusable
    ├── StateError                       exit 2   the local state database is unusable
    ├── RunLocked                        exit 5   another run holds the state database's lock
    └── TrainingRefused                  exit 1   `score train`: too little history to learn from
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""

    exit_code: ClassVar[int] = 1
    retriable: ClassVar[bool] = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        from connector.redact import redact  # secrets never travel in an error

        message = redact(message)
        super().__init__(message)
        self.message = message
        self.hint = redact(hint) if hint else hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  -> {self.hint}"
        return self.message


class ConfigError(ConnectorError):
    exit_code = 2


class MappingError(ConfigError):
    """A mapping file is invalid; the message names file, line and key."""


class AuthError(ConnectorError):
    exit_code = 3


class ConnectionFailure(ConnectorError):
    exit_code = 3
    retriable = True


class BudgetExhausted(ConnectorError):
    """The run stopped before a call that would exceed its API budget; safe to re-run."""

    exit_code = 4


class SourceError(ConnectorError):
    pass


class SourceFormatError(SourceError):
    exit_code = 2


class SourceRateLimited(SourceError):
    retriable = True

    def __init__(self, message: str, *, retry_after: float | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """The MAP timed out, answered 5xx or sent an unreadable body; retried with backoff."""

    retriable = True


class MarketoTransientError(SourceUnavailable):
    """Marketo timed out or was briefly unavailable; retried with backoff."""


class HubSpotTransientError(SourceUnavailable):
    """A 5xx or an unreadable body; retried with backoff."""


class SourceTokenRejected(SourceError):
    """601/602: the access token is invalid or expired (refreshed, then retried once)."""


class CheckpointNotReady(SourceError):
    """``checkpoint`` was read before ``read()`` finished or stopped cleanly."""


class SourceQuotaExhausted(SourceError):
    exit_code = 4


class SourceBudgetExhausted(SourceQuotaExhausted, BudgetExhausted):
    """The run spent its own per-run call budget on the MAP (not the MAP's daily quota).

    It is both a ``SourceQuotaExhausted`` and a ``BudgetExhausted`` so callers that
    handle either stop cleanly (exit 4, safe to re-run)."""


class SalesforceError(ConnectorError):
    pass


class SalesforceApiError(SalesforceError):
    """An HTTP-level failure carrying Salesforce's ``errorCode``."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: str,
        url: str = "",
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.error_code = error_code
        self.url = url
        self.retry_after = retry_after


class SessionExpired(SalesforceApiError):
    pass


class QueryError(SalesforceApiError):
    exit_code = 2


class RetriableApiError(SalesforceApiError):
    retriable = True


class ApiLimitExceeded(SalesforceError):
    exit_code = 4


class SchemaMismatch(SalesforceError):
    exit_code = 2


class DataError(ConnectorError):
    """One input record is bad; the rest of the read goes on.

    A rejected row is not raised out of a read: the source yields a
    ``connector.models.Rejection`` value where the record would have been (naming
    file, row and field) and the sync keeps it as a ``rejected_input`` dead letter
    for replay. ``RowProblem`` only carries a field's problem up to the reader
    that builds that value."""


class RowProblem(DataError, ValueError):
    """A field of a row cannot be used; carries the field's name (the reader turns it
    into a rejection naming file, row and field)."""

    def __init__(self, field: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class StateError(ConnectorError):
    exit_code = 2


class RunLocked(ConnectorError):
    """Another run holds the state database's lock: nothing was done; retry later."""

    exit_code = 5


class TrainingRefused(ConnectorError):
    """Too little history to learn scoring from; ``payload`` is the contract's shape."""

    def __init__(self, payload: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.payload = payload
