"""The funnel page in a real headless Chromium: it renders without errors or
network, the three charts are drawn, and the numbers it shows equal the JSON's."""

from __future__ import annotations

from pathlib import Path

from connector.reports.funnel import funnel_report
from connector.reports.funnel_render import STAGE_COLUMNS, render_html
from tests.reports.funnel_sample import QUERY, build
from tests.reports.test_html_chromium import probe_page, pytestmark  # noqa: F401

# What the page shows, written into the DOM for --dump-dom: the cells of the
# stage tables as text, the figure tiles and each chart's marks.
PROBE = """<script>(function(){
function cells(id){var t=document.getElementById(id);
return Array.prototype.map.call(t.tBodies[0].rows,function(r){
return Array.prototype.map.call(r.cells,function(c){return c.textContent;});});}
var charts=Array.prototype.map.call(document.querySelectorAll('figure.chart'),function(f){
var box=f.querySelector('svg').getBoundingClientRect();
return {id:f.id,svg:f.querySelectorAll('svg').length,
marks:f.querySelectorAll('path,rect').length,width:box.width};});
var tiles={};document.querySelectorAll('.tile').forEach(function(t){
tiles[t.querySelector('span').textContent]=t.querySelector('b').textContent;});
var out=document.createElement('pre');out.id='probe';
out.textContent=JSON.stringify({errors:window.__errors,demand:cells('demand'),
abm:cells('abm'),channels:cells('channels').length,tiles:tiles,charts:charts});
document.body.appendChild(out);})();</script>"""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def test_the_funnel_page_shows_the_json_numbers(tmp_path: Path) -> None:
    store = build(tmp_path / "state.db")
    try:
        report = funnel_report(store.db, QUERY)
    finally:
        store.close()
    probe = probe_page(render_html(report), PROBE, tmp_path / "funnel.html")
    for funnel in ("demand", "abm"):
        assert probe[funnel] == [[_text(r[c]) for c in STAGE_COLUMNS]
                                 for r in report[funnel]["stages"]]
    assert probe["channels"] == len(report["by_channel"])
    assert probe["tiles"]["people entering Inquiry"] == "6"
    assert probe["tiles"]["pipeline"] == "2,500.00" and probe["tiles"]["won"] == "1,800.00"
    charts = {c["id"]: c for c in probe["charts"]}
    assert set(charts) == {"chart-funnels", "chart-channels", "chart-trend"}
    assert all(c["svg"] == 1 and c["marks"] > 5 and c["width"] > 100
               for c in charts.values())
