"""What every API handler shares: the call's context and Salesforce-shaped responses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from connector.emulator.dml import Writer
from connector.emulator.faults import RecordPicker
from connector.emulator.org import Org
from connector.emulator.records import CallError

JSON_TYPE = "application/json;charset=UTF-8"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = b"" if status == 204 else json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status=status, headers=headers,
                    content_type=None if status == 204 else JSON_TYPE)


def error_response(error: CallError) -> Response:
    return json_response(error.body(), error.status)


@dataclass
class Call:
    """One authenticated API call."""

    org: Org
    request: Request
    version: str
    record_fault: RecordPicker | None = None

    def body(self) -> Any:
        """The JSON body; malformed JSON fails the call as Salesforce's parser does."""
        raw = self.request.get_data(cache=True)
        if not raw.strip():
            raise CallError(400, "JSON_PARSER_ERROR", "The request body is empty")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CallError(400, "JSON_PARSER_ERROR",
                            f"Unexpected character: {exc}") from None

    def writer(self, *, privileged: bool = False) -> Writer:
        return self.org.writer(privileged=privileged, record_fault=self.record_fault)

    def record_url(self, obj: str, record_id: str) -> str:
        return f"/services/data/v{self.version}/sobjects/{obj}/{record_id}"
