"""Run every benchmark in bench/ one after another (``make bench``).

Each ``bench_*.py`` runs the reference implementation on the same workload in the same run and
prints the ratio. Extra arguments are not passed on: run a benchmark alone to choose sizes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    failures = 0
    for script in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        print(f"\n### {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], check=False)
        if result.returncode != 0:
            print(f"### {script.name} failed with exit code {result.returncode}", flush=True)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
