"""The one door to the org: every call goes through ``SalesforceClient.call``.

``call`` checks the API budget, runs the call under the retry policy, refreshes
an expired session once (REST and Bulk 2.0 alike) and lets the response hook
count and time it. Higher layers (query, writer, describe) are built on it.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.bulk2 import Operation, _Bulk2Client
from simple_salesforce.util import call_salesforce

from connector.config import SalesforceSettings
from connector.errors import AuthError, ConnectorError, SessionExpired
from connector.retry import Backoff, poll, retrying
from connector.salesforce.auth import Authenticator, Token
from connector.salesforce.budget import ApiBudget, CallLog
from connector.salesforce.retry import translate

T = TypeVar("T")
log = logging.getLogger(__name__)

TERMINAL_JOB_STATES = frozenset({"JobComplete", "Failed", "Aborted"})


class _TimeoutSession(requests.Session):
    """A session with a default timeout (a hung socket must not hang a sync) whose
    CA bundle wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE: requests lets those
    environment variables override ``Session.verify`` (psf/requests#3829), and
    an explicit SF_CA_BUNDLE must not be silently ignored."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes,
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def decode_csv(content: bytes) -> str:
    """Bulk result bytes as text: always UTF-8 (Salesforce's only encoding), BOM dropped."""
    return content.decode("utf-8-sig", errors="replace")


def _strip_attributes(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        out[key] = _strip_attributes(value) if isinstance(value, dict) else value
    return out


class SalesforceClient:
    """Authenticated, budgeted, retrying access to one org."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        if http is None:
            http = _TimeoutSession(settings.timeout_seconds)
            if settings.ca_bundle:
                http.verify = str(settings.ca_bundle)
        self.http = http
        self.log = CallLog()
        self.http.hooks.setdefault("response", []).append(self._on_response)
        self._last_headers: Any = None
        self.auth = Authenticator(settings, self.http)
        self.budget = ApiBudget(self.log, share=settings.budget_share, cap=settings.budget_calls)
        self.sleep = sleep
        self.backoff = backoff or Backoff()
        self.retries = 0
        self.refreshes = 0
        # one call at a time: a read-ahead thread may page a query while the run
        # asks for something else (a describe), and the budget counts every call
        self._lock = threading.RLock()
        self._token: Token | None = None
        self._sf: Salesforce | None = None
        self._connected = False

    # ------------------------------------------------------------- session

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_headers = response.headers
        self.log.record(response)

    @property
    def connected(self) -> bool:
        """True once ``connect`` has logged in and fixed the run's budget."""
        return self._connected

    def connect(self) -> SalesforceClient:
        """Log in and read the org's API usage, which fixes the run's budget."""
        self._login()
        self.limits()
        self.budget.start()
        self._connected = True
        return self

    def _login(self) -> None:
        try:
            self._token = self.auth.obtain()
        except ConnectorError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        self._sf = Salesforce(
            instance_url=self._token.instance_url,
            session_id=self._token.access_token,
            session=self.http,
            version=self.settings.api_version,
        )

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self._login()
        assert self._sf is not None
        return self._sf

    @property
    def instance_url(self) -> str:
        if self._token is None:
            self._login()
        assert self._token is not None
        return self._token.instance_url

    def _bulk(self, sobject: str = "") -> _Bulk2Client:
        sf = self.sf
        headers = {"Content-Type": "application/json",
                   "Authorization": "Bearer " + str(sf.session_id)}
        return _Bulk2Client(sobject, sf.bulk2_url, headers, self.http)

    def _reserve(self, what: str) -> None:
        with self._lock:
            self.budget.reserve(1, what)

    def call(self, what: str, fn: Callable[[Salesforce], T]) -> T:
        """Run one API call: budget check, retries, one session refresh."""

        def attempt() -> T:
            with self._lock:
                try:
                    return fn(self.sf)
                except ConnectorError:
                    raise
                except Exception as exc:
                    raise translate(exc, headers=self._last_headers) from exc

        def on_retry(exc: ConnectorError, attempt_no: int, delay: float) -> None:
            self.retries += 1

        refreshed = False
        while True:
            try:
                return retrying(attempt, attempts=self.settings.max_attempts,
                                backoff=self.backoff, sleep=self.sleep,
                                spend=lambda: self._reserve(what), what=what,
                                on_retry=on_retry)
            except SessionExpired as exc:
                if refreshed or not self.auth.can_refresh:
                    raise AuthError(
                        "Salesforce rejected the session"
                        + (" again right after a fresh login" if refreshed else
                           " and it cannot be refreshed"),
                        hint=self.auth.settings_hint(),
                    ) from exc
                log.info("session expired during %s; logging in again", what)
                with self._lock:
                    self.refreshes += 1
                    self._login()
                refreshed = True

    # --------------------------------------------------------------- REST

    def limits(self) -> dict[str, Any]:
        return dict(self.call("read API limits", lambda sf: sf.limits()) or {})

    def describe(self, sobject: str) -> dict[str, Any]:
        return dict(self.call(f"describe {sobject}",
                              lambda sf: sf.restful(f"sobjects/{sobject}/describe/")) or {})

    def rest(self, what: str, path: str, *, method: str = "GET", json: Any = None,
             params: dict[str, Any] | None = None) -> Any:
        return self.call(what, lambda sf: sf.restful(path, method=method, json=json,
                                                     params=params))

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """All records of a SOQL query, page by page (nextRecordsUrl)."""
        page = self.call("query", lambda sf: sf.query(soql, include_deleted=include_deleted))
        yield from self._pages(page)

    def query_with_total(self, soql: str, *, include_deleted: bool = False
                         ) -> tuple[int, Generator[dict[str, Any], None, None]]:
        """The first page now (its ``totalSize`` says how many rows will come),
        the records lazily: a caller can switch to a Bulk query for a large
        result without a separate ``COUNT()`` call."""
        page = self.call("query", lambda sf: sf.query(soql, include_deleted=include_deleted))
        return int(page.get("totalSize", 0)), self._pages(page)

    def _pages(self, page: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        while True:
            for record in page.get("records", []):
                yield _strip_attributes(record)
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return

            def more(sf: Salesforce, url: str = str(next_url)) -> Any:
                return sf.query_more(url, identifier_is_url=True)

            page = self.call("query more", more)

    def count(self, soql: str) -> int:
        page = self.call("count", lambda sf: sf.query(soql))
        return int(page.get("totalSize", 0))

    # ------------------------------------------------------------ Bulk 2.0

    def bulk_create_job(self, sobject: str, operation: str,
                        external_id_field: str | None = None) -> str:
        info = self.call(
            f"create Bulk 2.0 {operation} job on {sobject}",
            lambda sf: self._bulk(sobject).create_job(
                Operation(operation), external_id_field=external_id_field),
        )
        return str(info["id"])

    def bulk_upload(self, sobject: str, job_id: str, data: str) -> None:
        self.call(f"upload Bulk 2.0 job {job_id}",
                  lambda sf: self._bulk(sobject).upload_job_data(job_id, data))

    def bulk_close(self, sobject: str, job_id: str) -> None:
        self.call(f"close Bulk 2.0 job {job_id}",
                  lambda sf: self._bulk(sobject).close_job(job_id))

    def bulk_abort(self, sobject: str, job_id: str, *, is_query: bool = False) -> None:
        self.call(f"abort Bulk 2.0 job {job_id}",
                  lambda sf: self._bulk(sobject).abort_job(job_id, is_query))

    def bulk_job(self, job_id: str, *, is_query: bool = False) -> dict[str, Any]:
        return dict(self.call(f"poll Bulk 2.0 job {job_id}",
                              lambda sf: self._bulk().get_job(job_id, is_query)))

    def bulk_wait(self, job_id: str, *, is_query: bool = False,
                  timeout: float = 3600.0) -> dict[str, Any]:
        """Poll until the job reaches a terminal state, backing off to 10 s."""
        return poll(lambda: self.bulk_job(job_id, is_query=is_query),
                    lambda info: info.get("state") in TERMINAL_JOB_STATES,
                    sleep=self.sleep, first=0.25, maximum=10.0, timeout=timeout,
                    on_timeout=lambda info, limit: ConnectorError(
                        f"Bulk 2.0 job {job_id} still {info.get('state')} after {limit:.0f}s",
                        hint="check Setup > Bulk Data Load Jobs in the org"))

    def bulk_results(self, sobject: str, job_id: str, which: str) -> list[dict[str, str]]:
        """successfulResults / failedResults / unprocessedrecords as CSV rows."""
        def fetch(sf: Salesforce) -> str:
            # Decoded as UTF-8 whatever the Content-Type says: requests would read a
            # bare ``text/csv`` as ISO-8859-1 and garble every accented value.
            bulk = self._bulk(sobject)
            response = call_salesforce(
                url=bulk._construct_request_url(job_id, False) + "/" + which, method="GET",
                session=self.http,
                headers=bulk._get_headers(bulk.JSON_CONTENT_TYPE, bulk.CSV_CONTENT_TYPE))
            return decode_csv(response.content)

        text = self.call(f"read {which} of Bulk 2.0 job {job_id}", fetch)
        return list(csv.DictReader(io.StringIO(text, newline="")))

    def bulk_query(self, soql: str, *, include_deleted: bool = False,
                   page_size: int = 50_000) -> Iterator[dict[str, str]]:
        """A large extract through a Bulk 2.0 query job, streamed page by page."""
        operation = "queryAll" if include_deleted else "query"
        info = self.call("create Bulk 2.0 query job",
                         lambda sf: self._bulk().create_job(Operation(operation), query=soql))
        job_id = str(info["id"])
        final = self.bulk_wait(job_id, is_query=True)
        if final.get("state") != "JobComplete":
            raise ConnectorError(f"Bulk 2.0 query job {job_id} ended {final.get('state')}: "
                                 f"{final.get('errorMessage', '')}")
        locator = ""
        while True:

            def fetch(sf: Salesforce, loc: str = locator) -> Any:
                return self._bulk().get_query_results(job_id, locator=loc,
                                                      max_records=page_size)

            page = self.call(f"read Bulk 2.0 query results {job_id}", fetch)
            yield from csv.DictReader(io.StringIO(page["records"]))
            locator = page["locator"]
            if not locator:
                return
