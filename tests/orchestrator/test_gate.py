"""The eval gate, table-driven: each row is a situation and what a support lead expects."""

from __future__ import annotations

import pytest

from orchestrator.categories import GatePolicy
from orchestrator.gate import GateInput, decide
from schemas.categories import Urgency
from schemas.turns import Decision

AUTO = GatePolicy(mode=Decision.AUTO_SEND, min_confidence=0.5)
DRAFT = GatePolicy(mode=Decision.DRAFT, min_confidence=0.5)
ESCALATE = GatePolicy(mode=Decision.ESCALATE, min_confidence=0.0)


@pytest.mark.parametrize(("facts", "decision", "reasons"), [
    (GateInput(AUTO, 0.9, Urgency.MEDIUM), Decision.AUTO_SEND, ["category_policy:auto_send"]),
    (GateInput(AUTO, 0.3, Urgency.MEDIUM), Decision.DRAFT, ["low_confidence"]),
    (GateInput(DRAFT, 0.9, Urgency.LOW), Decision.DRAFT, ["category_policy:draft"]),
    (GateInput(DRAFT, 0.2, Urgency.LOW), Decision.DRAFT, ["low_confidence", "category_policy:draft"]),
    (GateInput(ESCALATE, 0.99, Urgency.LOW), Decision.ESCALATE, ["category_policy:escalate"]),
    (GateInput(AUTO, 0.9, Urgency.CRITICAL), Decision.ESCALATE, ["critical_urgency"]),
    (GateInput(AUTO, 0.9, Urgency.HIGH), Decision.AUTO_SEND, ["category_policy:auto_send"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, asked_for_human=True), Decision.ESCALATE, ["customer_asked_for_human"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, failures_in_a_row=1), Decision.AUTO_SEND, ["category_policy:auto_send"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, identity_conflict=True), Decision.DRAFT, ["email_differs_from_contact"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, failures_in_a_row=2), Decision.ESCALATE, ["repeated_failure"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, action_failed=True), Decision.ESCALATE, ["action_failed"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, brain_gave_up="no_answer_in_knowledge"), Decision.ESCALATE,
     ["brain:no_answer_in_knowledge"]),
    (GateInput(AUTO, 0.9, Urgency.MEDIUM, guard=("prompt_injection",)), Decision.ESCALATE, ["prompt_injection"]),
    (GateInput(DRAFT, 0.9, Urgency.LOW, guard=("output:promise", "indirect_injection")), Decision.ESCALATE,
     ["output:promise", "indirect_injection"]),
    (GateInput(DRAFT, 0.1, Urgency.CRITICAL, asked_for_human=True), Decision.ESCALATE,
     ["customer_asked_for_human", "critical_urgency"]),
])
def test_gate(facts: GateInput, decision: Decision, reasons: list[str]) -> None:
    assert decide(facts) == (decision, reasons)
