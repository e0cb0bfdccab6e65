"""Offline `ask` on fresh questions written without the parser (tests/analytics/fresh_questions.jsonl, issue 17).

Each answerable question carries an independent `expected_sql` whose first row's first column is the answer;
each unanswerable one carries why it cannot be answered. Every answer is scored:

- answerable: correct (the key figure equals the SQL's value, within the rounding either side shows), honestly
  refused ("I can't answer that reliably: <why>"), or wrong (a confident answer that differs);
- unanswerable: refused, or answered (a confident number where there is none: never allowed).

The file has two parts. "tuning" is the part the parser was improved on; "held_out" was never read while tuning, so
its figures say how the parser does on questions nobody tuned for. The held-out questions' text is not printed
here, only the counts, so reading the test's output does not leak them into the next tuning step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastmcp import Client

QUESTIONS = Path(__file__).with_name("fresh_questions.jsonl")
CANNOT = "I can't answer that reliably"

# Floors a little under the measured figures (README, "Analytics"), so a regression fails the test. The goal of the
# issue is >= 90% correct or honestly refused, and no confident answer to an unanswerable question.
# Measured (README): tuning 48/49 correct, 1 refused, 0 wrong; held-out 16/33 correct, 16 refused, 1 wrong; no
# unanswerable question answered in either part.
FLOORS = {
    "tuning": {"correct": 0.95, "correct_or_refused": 0.97},
    "held_out": {"correct": 0.45, "correct_or_refused": 0.93},
}


def _questions(part: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row["part"] == part]


def _decimals(value: Any) -> int:
    if isinstance(value, Decimal):
        return max(0, -int(value.as_tuple().exponent))
    if isinstance(value, float):
        text = repr(value)
        return len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return 0


def matches(got: Any, expected: Any) -> bool:
    """The same answer, up to the rounding either side shows (36.5 matches 36.52; 80.0 does not match 79.6)."""
    if expected is None or got is None:
        return False
    if isinstance(expected, datetime | date):
        return str(got) == expected.isoformat()[:10]
    if isinstance(expected, str) or isinstance(got, str):
        return str(got) == str(expected)
    tolerance = 0.5 * 10 ** -min(_decimals(expected), _decimals(got)) + 1e-9
    return abs(float(got) - float(expected)) <= tolerance


@dataclass
class Score:
    part: str
    correct: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # what was asked, answered and expected (tuning part only)
    unanswerable_refused: list[str] = field(default_factory=list)
    unanswerable_answered: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> int:
        return len(self.correct) + len(self.refused) + len(self.wrong)

    def table(self) -> str:
        n, u = self.answerable, len(self.unanswerable_refused) + len(self.unanswerable_answered)
        ok = len(self.correct) + len(self.refused)
        return (f"{self.part:9} answerable {n}: correct {len(self.correct)} ({len(self.correct) / n:.0%}), refused "
                f"{len(self.refused)}, wrong {len(self.wrong)} -> correct or honestly refused {ok / n:.0%}; "
                f"unanswerable {u}: refused {len(self.unanswerable_refused)}, answered "
                f"{len(self.unanswerable_answered)}")


async def score(part: str, analytics: Client, db: psycopg.AsyncConnection) -> Score:
    result = Score(part)
    # The held-out text stays out of the output: a question is named by its line in the part, not its words.
    def name(index: int, row: dict[str, Any]) -> str:
        return row["question"] if part == "tuning" else f"{part}#{index}"

    for index, row in enumerate(_questions(part)):
        answer = (await analytics.call_tool("ask", {"question": row["question"]})).structured_content
        if not answer["answered"]:
            assert answer["answer"].startswith(CANNOT), name(index, row)
        if not row["answerable"]:
            (result.unanswerable_answered if answer["answered"] else result.unanswerable_refused).append(
                name(index, row))
            continue
        expected = (await (await db.execute(row["expected_sql"])).fetchone() or [None])[0]
        if not answer["answered"]:
            result.refused.append(name(index, row))
        elif matches(answer["key_figure"]["value"], expected):
            result.correct.append(name(index, row))
        else:
            result.wrong.append(name(index, row) + (f": answered {answer['answer']!r}, expected {expected!r}"
                                                    if part == "tuning" else ""))
    return result


def test_the_fresh_set_has_both_parts_and_both_kinds() -> None:
    for part in FLOORS:
        rows = _questions(part)
        assert any(r["answerable"] for r in rows) and any(not r["answerable"] for r in rows), part
        assert all(r.get("expected_sql") for r in rows if r["answerable"])


@pytest.mark.parametrize("part", list(FLOORS))
async def test_offline_ask_on_fresh_questions(part: str, analytics: Client, db: psycopg.AsyncConnection) -> None:
    result = await score(part, analytics, db)
    print("\n" + result.table())
    for line in result.wrong + [f"answered an unanswerable question: {q}" for q in result.unanswerable_answered]:
        print("  " + line)
    assert result.unanswerable_answered == [], "a confident answer to a question the data cannot answer"
    n = result.answerable
    assert (len(result.correct) + len(result.refused)) / n >= FLOORS[part]["correct_or_refused"], result.table()
    assert len(result.correct) / n >= FLOORS[part]["correct"], result.table()


@pytest.mark.parametrize(("got", "expected", "same"), [
    (36.52, Decimal("36.5"), True), (36.5, Decimal("36.52"), True), (79.6, Decimal("80.0"), False),
    (5, 5, True), (6, 5, False), ("2026-10-19", date(2026, 10, 19), True), ("email", "sms", False),
    (0.0088, Decimal("0.0088"), True), (4.14, Decimal("4.15"), False), (None, 3, False),
])
def test_matching_allows_rounding_and_nothing_else(got: Any, expected: Any, same: bool) -> None:
    assert matches(got, expected) is same
