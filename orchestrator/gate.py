"""The eval gate: auto-send, draft for a human, or escalate to a human, with the reasons. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.categories import GatePolicy
from schemas.categories import Urgency
from schemas.turns import Decision

REPEATED_FAILURES = 2  # after this many failed turns in a row a person takes over


@dataclass(frozen=True)
class GateInput:
    policy: GatePolicy
    confidence: float
    urgency: Urgency
    asked_for_human: bool = False
    failures_in_a_row: int = 0
    action_failed: bool = False
    brain_gave_up: str | None = None  # why the brain could not help (no answer, unidentified, server down)
    guard: tuple[str, ...] = ()  # what the guardrails stopped (prompt_injection, output:promise, ...)
    identity_conflict: bool = False  # the message named another e-mail than the contact's


def decide(facts: GateInput) -> tuple[Decision, list[str]]:
    escalate = [reason for reason, applies in (
        ("customer_asked_for_human", facts.asked_for_human),
        ("critical_urgency", facts.urgency is Urgency.CRITICAL),
        ("repeated_failure", facts.failures_in_a_row >= REPEATED_FAILURES),
        ("action_failed", facts.action_failed),
        (f"brain:{facts.brain_gave_up}", facts.brain_gave_up is not None),
        *((reason, True) for reason in facts.guard),
        ("category_policy:escalate", facts.policy.mode is Decision.ESCALATE),
    ) if applies]
    if escalate:
        return Decision.ESCALATE, escalate
    draft = [reason for reason, applies in (
        ("low_confidence", facts.confidence < facts.policy.min_confidence),
        ("email_differs_from_contact", facts.identity_conflict),
        ("category_policy:draft", facts.policy.mode is Decision.DRAFT),
    ) if applies]
    if draft:
        return Decision.DRAFT, draft
    return Decision.AUTO_SEND, ["category_policy:auto_send"]
