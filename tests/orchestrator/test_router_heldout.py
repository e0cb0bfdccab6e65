"""The offline router on 274 messages written by someone who never saw the router or its training data, and kept
out of all tuning. The floors below sit under the measured figures (README) so a regression fails here."""

from __future__ import annotations

from pathlib import Path

from orchestrator.router import OfflineRouting
from orchestrator.router_eval import evaluate

HELD_OUT = Path(__file__).with_name("router_heldout.jsonl")


async def test_the_router_on_the_held_out_set() -> None:
    report = await evaluate(OfflineRouting(), HELD_OUT)
    print("\n" + report.summary() + "\n" + report.table() + "\n" + report.confusion_list())
    assert report.total >= 200
    assert report.accuracy >= 0.88, report.summary()
    assert all(right / total >= 0.7 for right, total in report.per_category.values()), report.table()
    assert report.secondary_found / report.with_secondary >= 0.85
    assert report.false_secondary / (report.total - report.with_secondary) <= 0.1
    assert report.email_right == report.total
