"""Before a run does any work: is Salesforce reachable and are we allowed in?

A run used to read the whole MAP first, so a wrong Salesforce secret spent
Marketo or HubSpot quota before it failed. ``login_first`` logs in (and reads
the org's API usage, which fixes the run's budget) up front. Authentication,
connection and configuration errors stop the run here (exit 3 or 2) before
anything is read or written. An org whose daily allocation is already spent is
left to the sync's usual clean stop (exit 4), so that path is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.config import Settings
from connector.errors import ApiLimitExceeded, BudgetExhausted
from connector.salesforce import SalesforceClient


def login_first(settings: Settings, http: Any, sleep: Callable[[float], None]
                ) -> SalesforceClient | None:
    """A connected client, or None when the allocation is spent (the sync stops)."""
    client = SalesforceClient(settings.salesforce, http=http, sleep=sleep)
    try:
        return client.connect()
    except (BudgetExhausted, ApiLimitExceeded):
        return None


__all__ = ["login_first"]
