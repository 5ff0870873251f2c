"""Incremental reads on ``SystemModstamp``.

Each read starts a little before the last watermark (the lookback overlap
catches records committed late by long transactions), so the same record can
come back twice: the reader de-duplicates by id. The new watermark is only a
proposal; the caller stores it after the batch behind it is committed, so a
crash re-reads instead of skipping.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from connector.normalize import parse_timestamp
from connector.salesforce import soql
from connector.salesforce.client import SalesforceClient
from connector.salesforce.prefetch import prefetch

DEFAULT_LOOKBACK = timedelta(minutes=10)


class ChangeReader:
    """Records of ``sobject`` modified since a watermark, each id once."""

    def __init__(
        self,
        client: SalesforceClient,
        sobject: str,
        fields: Sequence[str],
        since: datetime | None,
        *,
        lookback: timedelta = DEFAULT_LOOKBACK,
        extra_where: str | None = None,
        bulk: bool = False,
        bulk_above: int | None = None,
        include_deleted: bool = False,
    ) -> None:
        self.client = client
        self.sobject = sobject
        # With ``include_deleted`` the read is a queryAll: records deleted since
        # the watermark come in the same pages (IsDeleted = true), so finding
        # deletions costs no query of its own.
        self.include_deleted = include_deleted
        self.fields = list(dict.fromkeys(["Id", "SystemModstamp", *fields,
                                          *(["IsDeleted"] if include_deleted else [])]))
        self.since = since
        self.lookback = lookback
        self.extra_where = extra_where
        # With ``bulk_above``, the first REST page tells the result's size and a
        # larger one is read through a Bulk 2.0 query instead (``bulk`` then
        # turns True before the first row is yielded).
        self.bulk = bulk
        self.bulk_above = bulk_above
        self.total: int | None = None
        self.watermark: datetime | None = since
        self.count = 0

    def statement(self) -> str:
        conditions = []
        if self.since is not None:
            conditions.append(f"SystemModstamp >= {soql.literal(self.since - self.lookback)}")
        if self.extra_where and self.include_deleted:
            # a deletion is news whatever the filter says of the deleted record
            conditions.append(f"(({self.extra_where}) OR IsDeleted = true)")
        elif self.extra_where:
            conditions.append(f"({self.extra_where})")
        return soql.select(self.sobject, self.fields,
                           where=" AND ".join(conditions) or None,
                           order_by="SystemModstamp, Id")

    def __iter__(self) -> Iterator[dict[str, object]]:
        seen: set[str] = set()
        rows: Iterator[dict[str, Any]]
        every = self.include_deleted
        if self.bulk:
            rows = self.client.bulk_query(self.statement(), include_deleted=every)
        elif self.bulk_above is not None:
            self.total, first = self.client.query_with_total(self.statement(),
                                                             include_deleted=every)
            rows = first
            if self.total > self.bulk_above:
                first.close()
                self.bulk = True
                rows = self.client.bulk_query(self.statement(), include_deleted=every)
        else:
            rows = self.client.query(self.statement(), include_deleted=every)
        rows = prefetch(rows)  # the next pages arrive while the caller stores these
        latest = ""  # one response uses one UTC format, whose text order is time order
        try:
            for row in rows:
                record_id = str(row["Id"])
                if record_id in seen:
                    continue
                seen.add(record_id)
                stamp = str(row.get("SystemModstamp") or "")
                if stamp > latest:
                    latest = stamp
                self.count += 1
                yield row
        finally:
            if latest:
                moment = parse_timestamp(latest)
                if moment is not None and (self.watermark is None or moment > self.watermark):
                    self.watermark = moment
