"""The audit report in a real headless Chromium: no console errors, no network,
tables sort and filter, charts are there.

Chromium is Debian's ``chromium`` package, which ``make test`` installs when it
is missing and apt works; elsewhere this test skips and says why.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connector.reports.audit import render_html
from tests.reports.sample_audit import sample_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: `make chromium` installs Debian's package where "
                             "apt-get works as root (or with sudo); not possible here")

# Before the report's own script: collect errors, CSP violations and console.error.
CATCHER = """<script>window.__errors=[];
window.addEventListener('error',function(e){__errors.push('error: '+e.message);});
window.addEventListener('securitypolicyviolation',function(e){
__errors.push('csp: '+e.blockedURI+' '+e.violatedDirective);});
var ce=console.error;console.error=function(){
__errors.push('console: '+Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};
</script>"""

# After it: sort the findings table by a column both ways, filter it, and write
# what the page shows into the DOM for --dump-dom.
PROBE = """<script>(function(){
var t=document.getElementById('findings');var heads=t.tHead.rows[0].cells;var col=-1;
for(var i=0;i<heads.length;i++){if(heads[i].textContent==='record_id')col=i;}
function column(){return Array.prototype.map.call(t.tBodies[0].rows,
function(r){return r.cells[col].textContent;});}
var before=column();reportSort(t,col);var asc=column();reportSort(t,col);var desc=column();
var sel=t.parentNode.parentNode.querySelector('select.filter');sel.value='duplicate';
sel.dispatchEvent(new Event('input'));
var shown=Array.prototype.filter.call(t.tBodies[0].rows,function(r){return !r.hidden;}).length;
var count=t.parentNode.parentNode.querySelector('.count').textContent;
var charts=Array.prototype.map.call(document.querySelectorAll('figure.chart'),function(f){
return {id:f.id,svg:f.querySelectorAll('svg').length,
marks:f.querySelectorAll('path,rect').length};});
var out=document.createElement('pre');out.id='probe';
out.textContent=JSON.stringify({errors:window.__errors,before:before,asc:asc,desc:desc,
shown:shown,count:count,charts:charts,sortAttr:heads[col].getAttribute('aria-sort')});
document.body.appendChild(out);})();</script>"""


def _run_chromium(page: Path, tmp_path: Path) -> tuple[str, str]:
    assert CHROMIUM is not None
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def probe_page(html: str, probe_script: str, page: Path) -> dict[str, Any]:
    """Open ``html`` in headless Chromium with the error catcher and ``probe_script``
    (which writes its findings as JSON into ``<pre id="probe">``); the findings,
    once it is sure the page raised no error and logged none."""
    page.write_text(html.replace("<head>", "<head>" + CATCHER, 1)
                    .replace("</body>", probe_script + "</body>", 1), encoding="utf-8")
    dom, log = _run_chromium(page, page.parent)
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    probe: dict[str, Any] = json.loads(
        match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
        .replace("&amp;", "&"))
    assert probe["errors"] == []
    assert not re.search(r"CONSOLE.*(Uncaught|Error)|Refused to", log), log[-2000:]
    return probe


def test_the_report_renders_sorts_and_filters_without_errors(tmp_path: Path) -> None:
    result, history = sample_result()
    html = render_html(result, history)
    probe = probe_page(html, PROBE, tmp_path / "audit.html")
    ids = [r.record_id or "" for r in result.findings]
    assert sorted(probe["before"]) == sorted(ids)
    non_blank = [v for v in probe["asc"] if v]
    assert non_blank == sorted(non_blank) and probe["asc"][-1] == ""  # blanks last
    assert [v for v in probe["desc"] if v] == sorted(non_blank, reverse=True)
    assert probe["sortAttr"] == "descending"
    assert probe["shown"] == result.summary["duplicate"] == 1
    assert probe["count"] == f"1 of {len(result.findings)} rows"
    charts = {c["id"]: c for c in probe["charts"]}
    assert set(charts) == {"chart-categories", "chart-trend"}
    assert all(c["svg"] == 1 and c["marks"] > 3 for c in charts.values())
