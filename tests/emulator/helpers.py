"""Small clients for emulator tests: raw REST calls with a token, and custom mappings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import requests
import yaml

from connector.emulator.testing import EmulatorHandle
from connector.mappings import bundled_dir

VERSION = "62.0"


class Api:
    """Raw calls under ``/services/data/v62.0/`` so tests see exact statuses and bodies."""

    def __init__(self, handle: EmulatorHandle, token: str | None = None) -> None:
        self.handle = handle
        self.session = handle.session()
        self.token = token or handle.access_token()

    def url(self, path: str) -> str:
        if path.startswith("/"):
            return f"{self.handle.instance_url}{path}"
        return f"{self.handle.instance_url}/services/data/v{VERSION}/{path}"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.session.request(method, self.url(path), headers=headers, timeout=60, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.call("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)

    def create(self, obj: str, **fields: Any) -> str:
        response = self.post(f"sobjects/{obj}/", json=fields)
        assert response.status_code == 201, response.text
        record_id: str = response.json()["id"]
        return record_id

    def record(self, obj: str, record_id: str) -> dict[str, Any]:
        response = self.get(f"sobjects/{obj}/{record_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def collection(self, method: str, records: list[dict[str, Any]], path: str = "",
                   all_or_none: bool = False) -> list[dict[str, Any]]:
        response = self.call(method, f"composite/sobjects{path}",
                             json={"allOrNone": all_or_none, "records": records})
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()
        return results


def error_of(response: requests.Response) -> tuple[int, str, str]:
    """(status, errorCode, message) of a Salesforce error array response."""
    body = response.json()
    return response.status_code, body[0]["errorCode"], body[0]["message"]


def custom_mappings(tmp_path: Path, lead_fields: dict[str, dict[str, Any]]) -> Path:
    """A copy of the bundled mappings with extra Lead fields (e.g. a non-unique external id)."""
    target = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), target, ignore=shutil.ignore_patterns("__init__.py",
                                                                          "__pycache__"))
    fields_path = target / "fields.yaml"
    doc = yaml.safe_load(fields_path.read_text(encoding="utf-8"))
    doc["objects"]["Lead"]["fields"].update(lead_fields)
    fields_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return target
