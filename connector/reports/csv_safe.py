"""CSV that spreadsheets cannot be tricked into executing.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel and LibreOffice as a formula (CSV injection: a Lead named
``=HYPERLINK(...)`` would run on the admin's machine). Such cells get a
leading apostrophe, which spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, (int, float)):
        return text  # a number is data, even when negative
    return "'" + text if text.startswith(_TRIGGERS) else text


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180; quotes a bare CR
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()
