"""How long `levhaolam seed` takes at the large scale, run the way a user runs it, beside its target.

    .venv/bin/python -m bench.seed [--customers 100000] [--tickets 1000000] [--json FILE]

Runs the command in a new process against a throwaway embedded PostgreSQL (LEVHAOLAM_DATA_DIR in a temporary
folder), so the time includes starting the database, migrating and the final ANALYZE. That the same seed gives the
same data is proven by the tests (tests/test_seed.py), not here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from bench.figures import Figure, write_json

TARGET_S = 120.0


def run(customers: int, tickets: int, json_path: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="levhaolam-bench-seed-") as data_dir:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "levhaolam.cli", "seed", "--customers", str(customers),
                                 "--tickets", str(tickets), "--as-of", "2026-11-28T12:00:00+00:00"],
                                env=os.environ | {"LEVHAOLAM_DATA_DIR": data_dir}, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"levhaolam seed failed:\n{result.stderr[-2000:]}")
    scale = f"{customers:,} customers, {tickets:,} tickets"
    target = TARGET_S if (customers, tickets) == (100_000, 1_000_000) else None
    figures = [Figure("seed", "levhaolam seed, wall clock", seconds, "s", target, scale=scale),
               Figure("seed", "tickets per second", tickets / seconds, "/s", None, lower_is_better=False, scale=scale)]
    Console().print(f"levhaolam seed ({scale}): {seconds:.1f} s (target < {TARGET_S:g} s at 100,000 / 1,000,000); "
                    f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    write_json(json_path, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    args = parser.parse_args()
    run(args.customers, args.tickets, args.json)


if __name__ == "__main__":
    main()
