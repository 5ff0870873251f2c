"""Screenshot of the HTML funnel report, for the README.

A generated MAP export and its seeded org (the local emulator, in process), a
sync (which keeps the funnel facts), then `report funnel` as HTML and a
screenshot of it by headless Chromium; the funnels chart also as PNG through
vl-convert (no browser), as for slides.

    .venv/bin/python scripts/screenshot_funnel.py [OUT_DIR]     # default docs/img
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot_common import find_chromium, screenshot, synced_world

from connector.datagen.generate import DEFAULT_AS_OF
from connector.reports.funnel import FunnelQuery, default_range, funnel_report
from connector.reports.funnel_render import funnel_chart, render_html
from connector.reports.html import chart_png

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    out_dir.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        with synced_world(tmp, people=1000) as (_org, rig):
            store = rig.store()
            report = funnel_report(store.db, FunnelQuery(
                DEFAULT_AS_OF, *default_range(DEFAULT_AS_OF, "quarter"), "quarter"))
            store.close()
        page = tmp / "funnel.html"
        page.write_text(render_html(report), encoding="utf-8")
        shot = out_dir / "funnel_report.png"
        screenshot(chromium, page, shot, tmp / "profile", height=1400)
        (out_dir / "funnel_chart.png").write_bytes(chart_png(funnel_chart(report), scale=1.5))
    print(f"wrote {shot} and {out_dir / 'funnel_chart.png'}")


if __name__ == "__main__":
    main()
