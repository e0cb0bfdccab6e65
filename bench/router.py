"""The offline router: latency per message and accuracy on the held-out set written by someone who never saw it.

    .venv/bin/python -m bench.router [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.figures import Figure, p50, percentile, write_json
from levhaolam import event_loop
from orchestrator.router import OfflineRouting
from orchestrator.router_eval import evaluate

HELD_OUT = Path(__file__).resolve().parents[1] / "tests" / "orchestrator" / "router_heldout.jsonl"


async def run(json_path: Path | None) -> None:
    router = OfflineRouting()
    started = time.perf_counter()
    await router.warm()
    load_s = time.perf_counter() - started
    texts = [json.loads(line)["text"] for line in HELD_OUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    timings = []
    for text in texts * 2:
        began = time.perf_counter()
        await router.route(text)
        timings.append((time.perf_counter() - began) * 1000)
    report = await evaluate(router, HELD_OUT)
    print(report.summary())
    print(f"load {load_s:.2f} s; p50 {p50(timings):.2f} ms, p95 {percentile(timings, 95):.2f} ms per message")
    write_json(json_path, [
        Figure("router", "offline router, p50 per held-out message", p50(timings), "ms", 10),
        Figure("router", "offline router, p95 per held-out message", percentile(timings, 95), "ms"),
        Figure("router", "held-out accuracy (274 messages)", report.accuracy * 100, "%", 85, lower_is_better=False),
        Figure("router", "training at start-up", load_s, "s")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    event_loop.run(run(parser.parse_args().json))


if __name__ == "__main__":
    main()
