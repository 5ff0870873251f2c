"""The connector's one error tree.

Whether an error is retriable, which exit code it maps to and whether it is a
per-record problem are properties of the class, so callers never test strings::

    ConnectorError                       exit 1
    ├── ConfigError                      exit 2   bad settings, flags or files
    │   └── MappingError                          a mappings/*.yaml problem (file, line, key)
    ├── AuthError                        exit 3   credentials rejected, session cannot refresh
    ├── ConnectionFailure                exit 3   network down, TLS, DNS (retriable)
    ├── BudgetExhausted                  exit 4   stopped before spending past the API budget
    ├── SourceError                               a MAP could not be read
    │   ├── SourceFormatError                     a file export's header or shape is wrong
    │   ├── SourceRateLimited                     throttled; retriable after a pause
    │   └── SourceQuotaExhausted         exit 4   the MAP's daily quota is spent (resumable)
    ├── SalesforceError                           the org said no to a whole call
    │   ├── SalesforceApiError                    HTTP error with Salesforce's errorCode
    │   │   ├── SessionExpired                    401 INVALID_SESSION_ID: refresh, then retry once
    │   │   ├── QueryError                        MALFORMED_QUERY, INVALID_FIELD, ...
    │   │   └── RetriableApiError                 503, UNABLE_TO_LOCK_ROW, concurrent limit, 5xx
    │   ├── ApiLimitExceeded             exit 4   the org's daily API allocation is spent
    │   └── SchemaMismatch               exit 2   mapped fields missing or of the wrong type
    ├── DataError                                 one record is bad; the rest go on
    │   └── RecordRejected                        rejected input row, kept for replay
    └── StateError                                the local state database is unusable
"""

from __future__ import annotations

from typing import ClassVar


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""

    exit_code: ClassVar[int] = 1
    retriable: ClassVar[bool] = False
    record_level: ClassVar[bool] = False

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


class SourceQuotaExhausted(SourceError):
    exit_code = 4


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
    record_level = True


class RecordRejected(DataError):
    """An input row that cannot be used as it is; it names where it came from."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None, value: object = None) -> None:
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field {field}" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.row = row
        self.field = field
        self.value = value


class StateError(ConnectorError):
    exit_code = 2


class RunLocked(ConnectorError):
    """Another run holds the state database's lock: nothing was done; retry later."""

    exit_code = 5
