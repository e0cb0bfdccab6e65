"""`levhaolam bench`: every benchmark in one run on this machine, each figure beside its target.

Each bench runs as its own process (`python -m bench.NAME --json FILE`), one after the other so they do not compete
for the CPU; the figures are collected into a terminal table, `results.json` and `results.png` (each figure as a
share of its target: left of the line is within it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.figures import Figure, read_json

# (label, module, arguments for a full run, arguments for --quick)
BENCHES: list[tuple[str, str, list[str], list[str]]] = [
    ("router", "router", [], []),
    ("orchestrator 1x", "orchestrator_turn", ["--turns", "60"], ["--turns", "20"]),
    ("orchestrator 10x", "orchestrator_turn", ["--turns", "40", "--scale", "10"], ["--turns", "10", "--scale", "10"]),
    ("mcp", "mcp_latency", ["--calls", "50"], ["--calls", "10"]),
    ("bridge", "bridge_webhook", [], ["--seconds", "5"]),
    ("knowledge", "knowledge_search", [], ["--passages", "2000", "--calls", "50"]),
    ("analytics", "analytics_queries", [], ["--runs", "3"]),
    ("knowledge ingest", "knowledge_ingest", [], ["--sections", "2000"]),
    ("seed", "seed", [], ["--customers", "10000", "--tickets", "100000"]),
]


def run_all(out_dir: Path, quick: bool, only: list[str] | None, console: Console) -> list[Figure]:
    figures: list[Figure] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for label, module, full, short in BENCHES:
        if only and module not in only and label not in only:
            continue
        console.print(f"[bold]{label}[/] (bench.{module}) ...")
        log = out_dir / f"{label.replace(' ', '-')}.log"
        with tempfile.NamedTemporaryFile(suffix=".json") as handle:
            result = subprocess.run([sys.executable, "-m", f"bench.{module}", *(short if quick else full), "--json",
                                     handle.name], capture_output=True, text=True)
            log.write_text(result.stdout + result.stderr)
            if not Path(handle.name).stat().st_size:  # a bench that missed its target still reports figures
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                console.print(f"  [red]failed[/] ({last[:160]}); log: {log}")
                continue
            figures += read_json(Path(handle.name))
    (out_dir / "results.json").write_text(json.dumps([asdict(f) | {"met": f.met} for f in figures], indent=2))
    if figures:
        plot(figures, out_dir / "results.png")
    return figures


def table(figures: list[Figure]) -> Table:
    shown = Table("bench", "figure", "scale", "value", "target", "met", title="Lev Haolam benchmarks")
    for f in figures:
        target = "" if f.target is None else f"{'<' if f.lower_is_better else '>'} {f.target:g} {f.unit}"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}[f.met]
        shown.add_row(f.bench, f.name, f.scale, f"{f.value:.3g} {f.unit}", target, met)
    return shown


def plot(figures: list[Figure], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targeted = [f for f in figures if f.target]
    if not targeted:
        return
    shares = [(f.value / f.target if f.lower_is_better else f.target / max(f.value, 1e-9)) for f in targeted
              if f.target]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(targeted) + 1.2))
    ax.barh([f"{f.bench}: {f.name} ({f.scale})" for f in targeted], shares,
            color=["#2e7d32" if s <= 1 else "#c62828" for s in shares])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("share of the target (1.0 = at the target; left is better)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
