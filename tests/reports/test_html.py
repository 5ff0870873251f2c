"""The HTML report module and formula-safe CSV: pure rendering, no browser."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.reports import html
from connector.reports.audit import render_csv, render_html
from connector.reports.csv_safe import safe_cell, to_csv
from tests.reports.sample_audit import sample_result

BAR = {"data": {"values": [{"k": "a", "n": 2}, {"k": "b", "n": 5}]}, "mark": "bar",
       "encoding": {"x": {"field": "n", "type": "quantitative"},
                    "y": {"field": "k", "type": "nominal"}}}


def test_a_page_has_sections_charts_and_escaped_tables() -> None:
    page = html.Page("Report <1>", "sub", [html.Section("One", [
        html.Figures({"people": 3}), html.Text("a & b"),
        html.Chart("Bars", BAR, id="bars"),
        html.Table("T", ("name", "n"), [["<script>alert(1)</script>", 2], ["b", None]],
                   id="t", filter_column="name")])]).render()
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert 'id="bars"' in page and page.count("<svg") == 1
    assert '<td class="num" data-v="2">2</td>' in page
    assert '<select class="filter" data-col="0"' in page
    assert "Report &lt;1&gt;" in page and "a &amp; b" in page


def test_the_page_loads_nothing_from_outside() -> None:
    result, history = sample_result()
    page = render_html(result, history)
    assert "default-src 'none'" in page
    # every URL in the page is an XML namespace of the inline SVGs
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)


def test_png_export_needs_no_browser() -> None:
    png = html.chart_png(BAR, scale=1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 500


@pytest.mark.parametrize(("value", "cell"), [
    pytest.param("=SUM(A1)", "'=SUM(A1)", id="equals"),
    pytest.param("+1", "'+1", id="plus"),
    pytest.param("-2+3", "'-2+3", id="minus"),
    pytest.param("@cmd", "'@cmd", id="at"),
    pytest.param("\tx", "'\tx", id="tab"),
    pytest.param("\rx", "'\rx", id="carriage-return"),
    pytest.param(-5, "-5", id="a-negative-number-is-data"),
    pytest.param("a=b", "a=b", id="inside-is-fine"),
    pytest.param(None, "", id="blank"),
    pytest.param(True, "true", id="boolean"),
])
def test_safe_cell(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


@given(st.lists(st.lists(st.text(max_size=12), min_size=2, max_size=2), max_size=6))
def test_no_text_cell_can_start_a_formula(rows: list[list[str]]) -> None:
    parsed = list(csv.reader(io.StringIO(to_csv(("a", "b"), rows), newline="")))
    assert len(parsed) == len(rows) + 1
    for row, original in zip(parsed[1:], rows, strict=True):
        for cell, value in zip(row, original, strict=True):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
            assert cell in (value, "'" + value)


def test_audit_csv_has_every_finding() -> None:
    result, _ = sample_result()
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert len(rows) == len(result.findings)
    [ghost] = [r for r in rows if r["category"] == "missing_in_map"]
    assert ghost["map_id"] == "'=GHOST-1"
