"""Measure a router on a labelled set (JSONL: text, primary, secondary, language, urgency, email): accuracy per
category, the confusions, second-intent detection. `python -m orchestrator.router_eval FILE` prints the report."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.router import OfflineRouting, Router
from schemas.categories import Category


@dataclass
class RouterReport:
    total: int = 0
    primary_right: int = 0
    per_category: dict[str, list[int]] = field(default_factory=dict)  # category -> [right, total]
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected, got) -> count
    with_secondary: int = 0
    secondary_found: int = 0  # the expected second intent was found (as secondary or primary)
    false_secondary: int = 0  # a secondary on a single-intent message
    language_right: int = 0
    urgency_right: int = 0
    email_right: int = 0

    @property
    def accuracy(self) -> float:
        return self.primary_right / self.total if self.total else 0.0

    def table(self) -> str:
        lines = ["| category | right / messages | accuracy |", "|---|---|---|"]
        for category in Category:
            right, total = self.per_category.get(category.value, [0, 0])
            lines.append(f"| {category.value} | {right} / {total} | {right / total:.0%} |" if total else
                         f"| {category.value} | 0 / 0 | - |")
        lines.append(f"| **all** | {self.primary_right} / {self.total} | **{self.accuracy:.1%}** |")
        return "\n".join(lines)

    def summary(self) -> str:
        single = self.total - self.with_secondary
        return (f"primary {self.accuracy:.1%} ({self.primary_right}/{self.total}); second intent found "
                f"{self.secondary_found}/{self.with_secondary}; false second intents {self.false_secondary}/{single}; "
                f"language {self.language_right}/{self.total}; urgency {self.urgency_right}/{self.total}; "
                f"email {self.email_right}/{self.total}")

    def confusion_list(self, most: int = 15) -> str:
        return "\n".join(f"- {expected} → {got}: {count}"
                         for (expected, got), count in self.confusions.most_common(most))


async def evaluate(router: Router, path: Path) -> RouterReport:
    report = RouterReport()
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    for line in text.splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        got = await router.route(case["text"])
        expected = case["primary"]
        report.total += 1
        tally = report.per_category.setdefault(expected, [0, 0])
        tally[1] += 1
        if got.primary.value == expected:
            report.primary_right += 1
            tally[0] += 1
        else:
            report.confusions[(expected, got.primary.value)] += 1
        if case.get("secondary"):
            report.with_secondary += 1
            report.secondary_found += case["secondary"] in {got.primary.value, got.secondary and got.secondary.value}
        elif got.secondary is not None:
            report.false_secondary += 1
        report.language_right += got.language == case.get("language")
        report.urgency_right += got.urgency.value == case.get("urgency")
        report.email_right += (str(got.email) if got.email else None) == case.get("email")
    return report


def main() -> None:
    report = asyncio.run(evaluate(OfflineRouting(), Path(sys.argv[1])))
    print(report.summary())
    print(report.table())
    print("Most frequent confusions (expected → routed):")
    print(report.confusion_list())


if __name__ == "__main__":
    main()
