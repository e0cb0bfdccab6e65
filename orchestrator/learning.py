"""Learning from staff corrections: when a person edits an AI draft before sending it, the difference becomes a
lesson for that category — approved at once when the category's policy allows it and the edit is a small wording
change that adds no number, amount or promise, otherwise waiting for review (`levhaolam learnings approve`).
Approved lessons are retrieved for later turns of the category: the model prompt shows them, and the offline brain
sends the corrected text instead of an identical draft.

Lessons are stored with the customer's personal data replaced by placeholders: they are shown in other customers'
conversations.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from orchestrator.categories import Categories, LearningPolicy
from orchestrator.guardrails import ReplyFacts, check_output
from schemas.categories import Category
from schemas.corrections import CorrectionRequest, CorrectionResponse
from store import learnings as store
from store.learnings import LearningRow

AUTO_MAX_CHANGE = 0.35  # at most this share of the draft changed for a lesson to apply without review
PLACEHOLDER = re.compile(r"\[(NAME|EMAIL|PHONE|ADDRESS|ORDER|TRACKING|NUMBER)\]")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
_TRACKING = re.compile(r"\b([A-Z]{2}\d{9}[A-Z]{2}|1Z[0-9A-Z]{16})\b")
_REFERENCE = re.compile(r"#\s?\d+|\b\d{4,}\b")


class CorrectionRefused(ValueError):
    """The correction does not match an AI reply of that conversation (nothing is learned from it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def redact(text: str, personal: dict[str, list[str]]) -> str:
    """The customer's own data (names, e-mail, phone, address lines) and any e-mail, phone, tracking or order number
    replaced by placeholders."""
    for kind, values in (("EMAIL", personal.get("email", [])), ("PHONE", personal.get("phone", [])),
                         ("ADDRESS", personal.get("address", [])), ("NAME", personal.get("name", []))):
        for value in sorted((v for v in values if v and len(v) >= 2), key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", f"[{kind}]", text, flags=re.IGNORECASE)
    text = _EMAIL.sub("[EMAIL]", text)
    text = _TRACKING.sub("[TRACKING]", text)
    text = _PHONE.sub("[PHONE]", text)
    return _REFERENCE.sub(lambda m: "#[ORDER]" if m.group(0).startswith("#") else "[NUMBER]", text)


def _words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def change_ratio(draft: str, sent: str) -> float:
    return round(1.0 - difflib.SequenceMatcher(None, _words(draft), _words(sent), autojunk=False).ratio(), 3)


def lesson_of(draft: str, sent: str) -> str:
    """What the person changed, word by word: replaced, removed and added passages."""
    before, after = _words(draft), _words(sent)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        old, new = " ".join(before[i1:i2]), " ".join(after[j1:j2])
        if op == "replace":
            parts.append(f'replaced "{old}" with "{new}"')
        elif op == "delete":
            parts.append(f'removed "{old}"')
        elif op == "insert":
            parts.append(f'added "{new}"')
    return ("Staff " + "; ".join(parts) + ".")[:4000] if parts else "No change."


def _added_text(draft: str, sent: str) -> str:
    before, after = _words(draft), _words(sent)
    return " ".join(" ".join(after[j1:j2]) for op, _, _, j1, j2 in difflib.SequenceMatcher(
        None, before, after, autojunk=False).get_opcodes() if op in ("replace", "insert"))


def policy_decision(policy: LearningPolicy, category: Category, language: str, draft: str, sent: str,
                    ratio: float) -> tuple[bool, str]:
    """(auto-accept, why). Auto only for a minor edit in a category whose policy allows it, adding no number, amount
    or promise the guardrails would question."""
    if policy is LearningPolicy.REVIEW:
        return False, f"{category.value}: every lesson is reviewed"
    if ratio > AUTO_MAX_CHANGE:
        return False, f"{ratio:.0%} of the draft changed (auto-accept at most {AUTO_MAX_CHANGE:.0%})"
    added = _added_text(draft, sent)
    if re.search(r"\d", added):
        return False, "the edit adds a number or an amount"
    tripped = check_output(ReplyFacts(text=added, language=language, category=category.value, model_written=False,
                                      evidence=[("draft", draft)], actions_executed=True))
    if tripped.tripped:
        return False, f"the added text needs a person's review ({', '.join(tripped.reasons)})"
    return True, f"minor edit ({ratio:.0%} changed) in a category whose policy is auto_minor"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


async def record_correction(conn: psycopg.AsyncConnection, categories: Categories, correction: CorrectionRequest
                            ) -> CorrectionResponse:
    if not await store.conversation_exists(conn, correction.conversation_id):
        raise CorrectionRefused(f"no conversation {correction.conversation_id!r}", "conversation_id")
    turns = await store.drafted_turns(conn, correction.conversation_id)
    turn = next((t for t in turns if _same(t.reply, correction.draft)), None)
    if turn is None:
        raise CorrectionRefused("the draft is not a reply the AI gave in this conversation (send it exactly as the "
                                "orchestrator returned it)", "draft")
    category = Category(turn.category)
    if _same(correction.draft, correction.sent_text):
        return CorrectionResponse(status="unchanged", category=category)
    personal = await store.personal_data(conn, turn.customer_id) if turn.customer_id else {}
    draft, sent = redact(correction.draft, personal), redact(correction.sent_text, personal)
    ratio = change_ratio(draft, sent)
    auto, note = policy_decision(categories[category].learning, category, turn.language, draft, sent, ratio)
    row, new = await store.insert(
        conn, category=category.value, language=turn.language, conversation_id=turn.conversation_id,
        turn_id=turn.turn_id, draft=draft, sent_text=sent, lesson=lesson_of(draft, sent), change_ratio=ratio,
        status="approved" if auto else "pending", auto_accepted=auto, policy_note=note,
        staff=correction.staff.strip())
    return CorrectionResponse(status="learned" if new else "already_learned", category=category,
                              learning_id=row.id, review=row.status,
                              auto_accepted=row.auto_accepted, change_ratio=row.change_ratio, lesson=row.lesson)


@dataclass(frozen=True)
class Lesson:
    draft: str
    sent_text: str
    lesson: str


def lessons_of(rows: Sequence[LearningRow]) -> list[Lesson]:
    return [Lesson(row.draft, row.sent_text, row.lesson) for row in rows]


def rewrite(reply: str, lessons: Sequence[Lesson], personal: dict[str, list[str]] | None = None) -> str | None:
    """The staff's text for a draft identical to one they corrected before (compared without personal data); None
    when no lesson fits or the corrected text holds placeholders that cannot be filled back."""
    redacted = redact(reply, personal or {})
    for lesson in lessons:
        if _same(lesson.draft, redacted) and not PLACEHOLDER.search(lesson.sent_text):
            return lesson.sent_text
    return None
