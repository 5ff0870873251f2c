"""Screenshot of the learned-scoring back-test report, for the README.

Generates a world with a planted signal (``generate-data --signal``), runs
``connector score train --target won --boosting --format html`` on it, and takes a
screenshot with headless Chromium; also writes the lift chart alone as PNG
through vl-convert (no browser).

    .venv/bin/python scripts/screenshot_learn.py [OUT_DIR]     # default docs/img
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot_common import find_chromium, screenshot

from connector.datagen.generate import DEFAULT_AS_OF, generate
from connector.learn.report import lift_chart, render_html
from connector.learn.sources import from_generated
from connector.learn.train import Options, run
from connector.mappings import load_mappings
from connector.reports.html import chart_png


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img")
    out_dir.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        generate(tmp / "data", people=20_000, seed=1, signal=True)
        mappings = load_mappings()
        assert mappings.scoring is not None
        history = from_generated(tmp / "data", mappings, DEFAULT_AS_OF)
        report = run(history, mappings.scoring, mappings.sync.free_mail_domains,
                     Options(target="won", boosting=True)).report
        page = tmp / "learn.html"
        page.write_text(render_html(report), encoding="utf-8")
        shot = out_dir / "learn_report.png"
        screenshot(chromium, page, shot, tmp / "profile", height=1700)
        (out_dir / "learn_lift.png").write_bytes(chart_png(lift_chart(report), scale=1.5))
    print(f"wrote {shot} and {out_dir / 'learn_lift.png'}")


if __name__ == "__main__":
    main()
