"""Self-contained HTML reports: a page of sections holding text, figures, charts
and sortable, filterable tables, in ONE file that loads nothing from outside.

Admins mail these reports around and open them on locked-down machines, so a
report never reaches the network: no CDN, no web fonts, no remote scripts (a
Content-Security-Policy in the page forbids it). Charts are Vega-Lite specs
(built with Altair) rendered by vl-convert to inline SVG ahead of time, so the
page needs no chart runtime, and to PNG without a browser for slides and mail.
Shared by the audit, the funnel and the learned-scoring reports.

Needs the ``reports`` extra (``pip install 'map-salesforce-connector[reports]'``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError

Spec = Mapping[str, Any]


def _vl() -> Any:
    try:
        import vl_convert
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("HTML and PNG reports need the reports extra",
                          hint="pip install 'map-salesforce-connector[reports]'") from None
    return vl_convert


def _spec(chart: Any) -> dict[str, Any]:
    """An Altair chart or a Vega-Lite dict -> the dict."""
    to_dict = getattr(chart, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(chart)


def chart_svg(chart: Any) -> str:
    """Render a chart to SVG text (no browser, no network)."""
    return str(_vl().vegalite_to_svg(_spec(chart)))


def chart_png(chart: Any, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes (no browser, no network)."""
    return bytes(_vl().vegalite_to_png(_spec(chart), scale=scale))


@dataclass
class Text:
    text: str


@dataclass
class Figures:
    """Headline numbers: label -> value, shown as tiles."""

    values: Mapping[str, Any]


@dataclass
class Chart:
    title: str
    chart: Any  # an Altair chart or a Vega-Lite dict
    id: str = ""


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    id: str = ""
    filter_column: str | None = None  # a column offered as a drop-down filter
    note: str = ""


Block = Text | Figures | Chart | Table


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Page:
    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def render(self) -> str:
        return render_page(self)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;color:#1d2433;background:#f6f7f9}
header{background:#12314f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:18px 0;
padding:14px 18px}h2{font-size:17px;margin:0 0 10px}h3{font-size:15px;margin:14px 0 6px}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{border:1px solid #dde1e7;border-radius:6px;
padding:8px 12px;min-width:120px}.tile b{display:block;font-size:20px}.tile span{color:#5b6577}
.chart svg{max-width:100%;height:auto}.controls{margin:6px 0;display:flex;gap:8px}
.controls input,.controls select{padding:4px 6px;border:1px solid #c3c9d2;border-radius:4px}
.scroll{overflow:auto;max-height:640px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e6e9ee;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef1f5;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}.count{color:#5b6577;font-size:12px}
"""

# Sorting (click a header; numbers sort as numbers, blanks last) and filtering
# (free text over every cell, plus an optional drop-down on one column).
_JS = """
(function(){
function cell(r,i){var c=r.cells[i];return c?c.getAttribute('data-v')||c.textContent:'';}
function cmp(a,b){if(a===b)return 0;if(a==='')return 1;if(b==='')return -1;
var x=parseFloat(a),y=parseFloat(b);
if(!isNaN(x)&&!isNaN(y)&&String(x)===a.trim()&&String(y)===b.trim())return x-y;
return a.localeCompare(b);}
function sortBy(t,i){var th=t.tHead.rows[0].cells[i];
var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
for(var h of t.tHead.rows[0].cells)h.removeAttribute('aria-sort');th.setAttribute('aria-sort',dir);
var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var r=cmp(cell(a,i),cell(b,i));return dir==='ascending'?r:-r;});
rows.forEach(function(r){body.appendChild(r);});}
function filter(t){var box=t.parentNode.parentNode.querySelector('input.filter');
var sel=t.parentNode.parentNode.querySelector('select.filter');
var q=box?box.value.toLowerCase():'',col=sel?parseInt(sel.getAttribute('data-col'),10):-1,
v=sel?sel.value:'',shown=0;
for(var r of t.tBodies[0].rows){var ok=(!q||r.textContent.toLowerCase().indexOf(q)>=0)&&
(!v||cell(r,col)===v);r.hidden=!ok;if(ok)shown++;}
var n=t.parentNode.parentNode.querySelector('.count');if(n)n.textContent=shown+' of '+
t.tBodies[0].rows.length+' rows';}
window.reportSort=sortBy;window.reportFilter=filter;
document.querySelectorAll('table.report').forEach(function(t){
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
th.addEventListener('click',function(){sortBy(t,i);});});
t.parentNode.parentNode.querySelectorAll('.filter').forEach(function(el){
el.addEventListener('input',function(){filter(t);});});filter(t);});
})();
"""

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src data:")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "t"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(block: Table) -> str:
    tid = block.id or _slug(block.title)
    parts = [f'<div class="block" id="{_e(tid)}-block">']
    if block.title:
        parts.append(f"<h3>{_e(block.title)}</h3>")
    if block.note:
        parts.append(f"<p>{_e(block.note)}</p>")
    parts.append('<div class="controls"><input class="filter" type="search" '
                 'placeholder="Filter rows" aria-label="Filter rows">')
    if block.filter_column and block.filter_column in block.columns:
        col = list(block.columns).index(block.filter_column)
        options = sorted({str(r[col]) for r in block.rows if r[col] not in (None, "")})
        parts.append(f'<select class="filter" data-col="{col}" aria-label="'
                     f'{_e(block.filter_column)}"><option value="">all '
                     f"{_e(block.filter_column)}</option>"
                     + "".join(f'<option value="{_e(o)}">{_e(o)}</option>' for o in options)
                     + "</select>")
    parts.append('<span class="count"></span></div><div class="scroll">')
    parts.append(f'<table class="report" id="{_e(tid)}"><thead><tr>'
                 + "".join(f"<th>{_e(c)}</th>" for c in block.columns) + "</tr></thead><tbody>")
    for row in block.rows:
        cells = []
        for value in row:
            if _is_number(value):
                cells.append(f'<td class="num" data-v="{_e(value)}">{_e(value)}</td>')
            else:
                cells.append(f"<td>{_e(value)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div></div>")
    return "".join(parts)


def _block(block: Block) -> str:
    if isinstance(block, Text):
        return f"<p>{_e(block.text)}</p>"
    if isinstance(block, Figures):
        return '<div class="tiles">' + "".join(
            f'<div class="tile"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
            for k, v in block.values.items()) + "</div>"
    if isinstance(block, Chart):
        cid = block.id or _slug(block.title)
        return (f'<figure class="chart" id="{_e(cid)}"><h3>{_e(block.title)}</h3>'
                f"{chart_svg(block.chart)}</figure>")
    return _table(block)


def render_page(page: Page) -> str:
    """The whole report as one HTML document."""
    body = "".join(
        f'<section id="section-{_e(_slug(s.title))}"><h2>{_e(s.title)}</h2>'
        + "".join(_block(b) for b in s.blocks) + "</section>" for s in page.sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(page.title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(page.title)}</h1>"
        + (f"<p>{_e(page.subtitle)}</p>" if page.subtitle else "")
        + f"</header><main>{body}</main><script>{_JS}</script></body></html>\n")

