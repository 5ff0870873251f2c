"""Screenshot of the HTML audit report, for the README.

Builds a real audit: a generated MAP export and its seeded org (the local
emulator, in process), a sync, two audits a day apart with a few discrepancies
planted in between (hand edits, a deleted member, a duplicate Lead, a Lead with
an unknown MAP id), then the HTML report, and a screenshot of it taken by
headless Chromium. Also writes the category chart alone as PNG through
vl-convert (no browser), as `connector` users would for slides.

    .venv/bin/python scripts/screenshot_audit.py [OUT_DIR]     # default docs/img
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot_common import find_chromium, screenshot, synced_world

from connector.audit.run import run_audit
from connector.datagen.generate import DEFAULT_AS_OF
from connector.reports.audit import category_chart, render_html
from connector.reports.html import chart_png
from connector.state import findings as findings_state

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    out_dir.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        with synced_world(tmp, people=300) as (org, rig):
            store = rig.store()
            run_audit(rig.settings(), rig.mappings, store, as_of=DEFAULT_AS_OF,
                      http=org.session())
            sf = org.salesforce()
            leads = rig.query("SELECT Id, Email FROM Lead WHERE MAP_Id__c != null "
                              "AND IsConverted = false ORDER BY Id LIMIT 4")
            for lead in leads[:2]:
                sf.Lead.update(lead["Id"], {"First_Touch_Channel__c": "Carrier Pigeon"})
            sf.Lead.create({"LastName": "Twin", "Company": "Dup", "Email": leads[2]["Email"]})
            sf.Lead.create({"LastName": "Ghost", "Company": "Nowhere", "MAP_Id__c": "GHOST-1"})
            [member] = rig.query("SELECT Id FROM CampaignMember ORDER BY Id LIMIT 1")
            sf.CampaignMember.delete(member["Id"])
            result = run_audit(rig.settings(), rig.mappings, store,
                               as_of=DEFAULT_AS_OF + timedelta(days=1), http=org.session())
            page = tmp / "audit.html"
            page.write_text(render_html(result, findings_state.history(store)),
                            encoding="utf-8")
            store.close()
        shot = out_dir / "audit_report.png"
        screenshot(chromium, page, shot, tmp / "profile", height=1500)
        (out_dir / "audit_categories.png").write_bytes(
            chart_png(category_chart(result.summary), scale=1.5))
    print(f"wrote {shot} and {out_dir / 'audit_categories.png'}")


if __name__ == "__main__":
    main()
