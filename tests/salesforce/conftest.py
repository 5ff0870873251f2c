"""Fixtures for the Salesforce client layer tested against exact HTTP shapes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from connector.config import SalesforceSettings

ORG = "https://org.example.my.salesforce.com"
LOGIN = "https://login.example.com"
API = f"{ORG}/services/data/v62.0"


def limit_headers(used: int = 10, total: int = 15000) -> dict[str, str]:
    return {"Sforce-Limit-Info": f"api-usage={used}/{total}"}


@pytest.fixture
def settings() -> SalesforceSettings:
    return SalesforceSettings(
        _env_file=None,
        instance_url=ORG, login_url=LOGIN, client_id="cid", client_secret="s3cret",
        max_attempts=4,
    )


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{LOGIN}/services/oauth2/token",
                 json={"access_token": "T1", "instance_url": ORG, "token_type": "Bearer"})
        rsps.add(responses.GET, f"{API}/limits/",
                 json={"DailyApiRequests": {"Max": 15000, "Remaining": 14990}},
                 headers=limit_headers())
        yield rsps


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
