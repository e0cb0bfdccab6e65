"""How long `levhaolam knowledge ingest` takes for 10,000 short Markdown sections, run as a user runs it.

    .venv/bin/python -m bench.knowledge_ingest [--sections 10000] [--per-file 100] [--json FILE]

Writes the sections (40 words each, in files of --per-file sections) to a temporary folder and runs the command in
a new process against a throwaway embedded PostgreSQL, so the time includes starting the database, migrating and
loading the embedding model.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from bench.figures import Figure, write_json
from bench.knowledge_search import WORDS

TARGET_S = 60.0


def write_sections(folder: Path, sections: int, per_file: int) -> None:
    rng = random.Random(11)
    for start in range(0, sections, per_file):
        body = "".join(f"## Note {n}\n{' '.join(rng.choices(WORDS, k=40))}.\n\n"
                       for n in range(start, min(sections, start + per_file)))
        (folder / f"notes-{start // per_file:04d}.md").write_text(body)


def run(sections: int, per_file: int, json_path: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="levhaolam-bench-ingest-") as tmp:
        folder = Path(tmp) / "notes"
        folder.mkdir()
        write_sections(folder, sections, per_file)
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "levhaolam.cli", "knowledge", "ingest", str(folder),
                                 "--namespace", "faq"], env=os.environ | {"LEVHAOLAM_DATA_DIR": tmp},
                                capture_output=True, text=True)
        seconds = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The command's own CPU (the database runs as a daemon and is not counted): on cores other work shares, a figure
    # the load moves far less than the wall clock.
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if result.returncode:
        raise SystemExit(f"levhaolam knowledge ingest failed:\n{result.stderr[-2000:]}")
    scale = f"{sections:,} sections"
    target = TARGET_S if sections == 10_000 else None
    figures = [Figure("knowledge ingest", "levhaolam knowledge ingest, wall clock", seconds, "s", target, scale=scale),
               Figure("knowledge ingest", "levhaolam knowledge ingest, CPU of the command", cpu, "s", None,
                      scale=scale),
               Figure("knowledge ingest", "sections per second", sections / seconds, "/s", None,
                      lower_is_better=False, scale=scale)]
    Console().print(f"levhaolam knowledge ingest ({scale}): {seconds:.1f} s (target < {TARGET_S:g} s at 10,000), "
                    f"{cpu:.1f} s of CPU in the command; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
                    "cores")
    write_json(json_path, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    args = parser.parse_args()
    run(args.sections, args.per_file, args.json)


if __name__ == "__main__":
    main()
