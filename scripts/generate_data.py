"""Generate demo/benchmark data: `python scripts/generate_data.py --out DIR --people N`.

A thin wrapper around `connector generate-data` for use from a source checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.datagen.cli import datagen_app

if __name__ == "__main__":
    datagen_app()
