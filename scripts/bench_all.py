"""Every benchmark in one go (`make bench`): sources, emulator, writer, sync.

Long at full sizes (the 100k-people sync dominates); each script also runs on
its own with chosen sizes, see its docstring.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_sources.py", "bench_emulator.py", "bench_client.py", "bench_sync.py"]


def main() -> int:
    worst = 0
    for script in SCRIPTS:
        path = HERE / script
        if not path.exists():
            continue
        print(f"== {script}", flush=True)
        worst = max(worst, subprocess.call([sys.executable, str(path)]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
