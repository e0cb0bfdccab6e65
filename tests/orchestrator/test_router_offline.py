"""The offline router as a customer would meet it: messages in, category, second intent, urgency, email out."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.router_offline import (
    ClauseReading,
    OfflineRouter,
    evaluate,
    load_offline_router,
    resolve_intents,
)
from orchestrator.router_training_data import load_dev, training_examples
from schemas.categories import Category, Urgency
from schemas.routing import RouterOutput

C = Category


@pytest.fixture(scope="module")
def router() -> OfflineRouter:
    return load_offline_router()


@pytest.mark.parametrize(("text", "expected"), [
    # English
    ("Hey, my parcel still hasn't shown up, can you check where it is?", C.SHIPPING_INQUIRY),
    ("Please put my subscription on pause for two months.", C.PAUSE_SUBSCRIPTION),
    ("I want to cancel my subscription.", C.CANCEL_SUBSCRIPTION),
    ("The olive oil bottle smashed in the box.", C.DAMAGED_ITEM),
    ("You took the money twice from my card this month.", C.PAYMENT_ISSUE),
    # Russian
    ("Где моя посылка? Жду уже три недели.", C.SHIPPING_INQUIRY),
    ("Хочу отменить подписку.", C.CANCEL_SUBSCRIPTION),
    ("Банка с тхиной пришла разбитая.", C.DAMAGED_ITEM),
    ("Мы переехали, новый адрес: ул. Пушкина 10, Москва.", C.CHANGE_ADDRESS),
    # Spanish
    ("¿Dónde está mi caja? No ha llegado.", C.SHIPPING_INQUIRY),
    ("Quiero pausar la suscripción dos meses.", C.PAUSE_SUBSCRIPTION),
    ("Me cobraron dos veces este mes.", C.PAYMENT_ISSUE),
    ("¿Los productos son kosher?", C.GENERAL_QUESTION),
    # German
    ("Bitte kündigen Sie mein Abo.", C.CANCEL_SUBSCRIPTION),
    ("Können wir nächsten Monat aussetzen? Nur diese eine Box.", C.SKIP_MONTH),
    ("Ich möchte die Box nur noch alle zwei Monate bekommen.", C.CHANGE_FREQUENCY),
    ("Die Honigflasche ist kaputt angekommen.", C.DAMAGED_ITEM),
    # Hebrew
    ("איפה החבילה שלי? עדיין לא הגיעה.", C.SHIPPING_INQUIRY),
    ("אני רוצה לבטל את המנוי.", C.CANCEL_SUBSCRIPTION),
    ("הצנצנת של הדבש הגיעה שבורה.", C.DAMAGED_ITEM),
    ("עברתי דירה, תעדכנו את הכתובת בבקשה.", C.CHANGE_ADDRESS),
    # French
    ("Je veux annuler mon abonnement.", C.CANCEL_SUBSCRIPTION),
])
def test_clear_messages_route_to_their_category(router: OfflineRouter, text: str, expected: Category) -> None:
    result = router.route(text)
    assert result.primary == expected
    assert result.secondary is None


@pytest.mark.parametrize(("text", "expected"), [
    ("cancel", C.CANCEL_SUBSCRIPTION),
    ("refund", C.PAYMENT_ISSUE),
    ("tracking", C.SHIPPING_INQUIRY),
    ("pause", C.PAUSE_SUBSCRIPTION),
    ("thanks", C.OTHER),
    ("отмена", C.CANCEL_SUBSCRIPTION),
    ("ביטול", C.CANCEL_SUBSCRIPTION),
])
def test_one_word_messages(router: OfflineRouter, text: str, expected: Category) -> None:
    assert router.route(text).primary == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("wher is my pakage", C.SHIPPING_INQUIRY),
    ("cancle my subscribtion", C.CANCEL_SUBSCRIPTION),
    ("I WANT MY MONEY BACK YOU CHARGED ME TWICE", C.PAYMENT_ISSUE),
])
def test_typos_and_capitals(router: OfflineRouter, text: str, expected: Category) -> None:
    assert router.route(text).primary == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("I don't want to cancel, just pause", C.PAUSE_SUBSCRIPTION),
    ("Please don't cancel my subscription, I only want to skip August", C.SKIP_MONTH),
    ("Я не хочу отменять, просто поставьте на паузу", C.PAUSE_SUBSCRIPTION),
    ("I don't want to pause, cancel it", C.CANCEL_SUBSCRIPTION),
])
def test_a_refused_action_is_not_the_request(router: OfflineRouter, text: str, expected: Category) -> None:
    result = router.route(text)
    assert result.primary == expected
    assert result.secondary is None


def test_long_email_with_greeting_and_signature(router: OfflineRouter) -> None:
    text = ("Dear Lev Haolam team,\n\nI hope you are all well. We have been subscribers for three years and love "
            "the boxes. We have just moved house, so please send the next box to 14 Oak Lane, Leeds LS6 2AB.\n\n"
            "Warm regards,\nHannah Levi")
    assert router.route(text).primary == C.CHANGE_ADDRESS


@pytest.mark.parametrize(("text", "primary", "secondary"), [
    ("the jar broke, and skip next month", C.DAMAGED_ITEM, C.SKIP_MONTH),
    ("Hi! The honey arrived broken. Also I moved to 5 Main St, Boston.", C.DAMAGED_ITEM, C.CHANGE_ADDRESS),
    ("Банка разбилась, и ещё пропустите следующий месяц.", C.DAMAGED_ITEM, C.SKIP_MONTH),
])
def test_two_requests_give_a_secondary(router: OfflineRouter, text: str, primary: Category,
                                       secondary: Category) -> None:
    result = router.route(text)
    assert (result.primary, result.secondary) == (primary, secondary)


@pytest.mark.parametrize("text", [
    "Hello, the box came yesterday but the tahini jar was cracked. What should I do? Thanks, Ruth",
    "Tracking shows nothing for two weeks. Any idea what's going on?",
])
def test_one_request_in_several_sentences_gets_no_secondary(router: OfflineRouter, text: str) -> None:
    assert router.route(text).secondary is None


def test_email_is_extracted_and_validated(router: OfflineRouter) -> None:
    assert router.route("Where is my box? My email is dana.cohen@example.com.").email == "dana.cohen@example.com"
    assert router.route("Where is my box? I'm @dana on Instagram").email is None
    assert router.route("contact: not-an-email@ or a@b").email is None


@pytest.mark.parametrize(("text", "expected"), [
    ("WHERE IS MY BOX?? THIS IS THE THIRD TIME I'M WRITING!!!", Urgency.HIGH),
    ("Please refund me asap", Urgency.HIGH),
    ("If you don't refund me I'll file a chargeback and talk to my lawyer.", Urgency.CRITICAL),
    ("My daughter had an allergic reaction to the halva", Urgency.CRITICAL),
    ("Is the honey kosher for Passover?", Urgency.LOW),
    ("Please change my address to 3 Elm Road, Leeds", Urgency.MEDIUM),
])
def test_urgency(router: OfflineRouter, text: str, expected: Urgency) -> None:
    assert router.route(text).urgency == expected


@pytest.mark.parametrize(("text", "language"), [
    ("Where is my box?", "en"),
    ("Где моя коробка?", "ru"),
    ("¿Dónde está mi caja?", "es"),
    ("Wo ist meine Box?", "de"),
    ("איפה הקופסה שלי?", "he"),
    ("Où est mon colis ?", "fr"),
    ("👍", "en"),
])
def test_language(router: OfflineRouter, text: str, language: str) -> None:
    assert router.route(text).language == language


@pytest.mark.parametrize("text", ["", "   ", "👍", "a" * 5000, "Hi.\n" * 200])
def test_output_is_a_valid_router_output_for_any_input(router: OfflineRouter, text: str) -> None:
    result = router.route(text)
    assert RouterOutput.model_validate(result.model_dump()) == result
    assert 0.0 <= result.confidence <= 1.0


def test_confidence_is_high_for_a_clear_message_and_lower_for_a_vague_one(router: OfflineRouter) -> None:
    assert router.route("Please cancel my subscription").confidence > 0.8
    assert router.route("I run a pottery studio in Jaffa").confidence < 0.8


def test_training_and_routing_are_deterministic(router: OfflineRouter) -> None:
    examples = training_examples()
    assert examples == training_examples()
    retrained = OfflineRouter.train([e.text for e in examples], [e.label for e in examples])
    for text in ["the jar broke, and skip next month", "Wo ist meine Box?", "I WANT A REFUND!!!"]:
        assert retrained.route(text) == router.route(text)


def test_same_routes_in_a_fresh_process_with_another_hash_seed(router: OfflineRouter) -> None:
    # Python salts str hashes per process; nothing in training may depend on set or dict-of-str ordering.
    texts = ["the jar broke, and skip next month", "Где моя посылка?", "I don't want to cancel, just pause"]
    script = ("import json, sys\nfrom orchestrator.router_offline import load_offline_router\n"
              "r = load_offline_router()\n"
              "print(json.dumps([r.route(t).model_dump(mode='json') for t in json.loads(sys.argv[1])]))")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", script, json.dumps(texts)], cwd=root, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout) == [router.route(t).model_dump(mode="json") for t in texts]


def test_router_is_loaded_once() -> None:
    assert load_offline_router() is load_offline_router()


def test_quality_on_our_dev_set_does_not_regress(router: OfflineRouter) -> None:
    report = evaluate(router, load_dev())
    assert report.primary_accuracy >= 0.9
    assert report.false_secondary_rate <= 0.05
    assert report.secondary_recall >= 0.8


def test_routing_is_fast(router: OfflineRouter) -> None:
    texts = [row.text for row in load_dev()]
    latencies = []
    for text in texts:
        started = time.perf_counter()
        router.route(text)
        latencies.append(time.perf_counter() - started)
    assert statistics.median(latencies) < 0.010


def test_first_written_request_is_primary_and_refusals_do_not_count() -> None:
    whole = dict.fromkeys(Category, 0.0) | {C.SKIP_MONTH: 0.6, C.DAMAGED_ITEM: 0.35}
    readings = [ClauseReading(0, C.DAMAGED_ITEM, 0.9, negated=False), ClauseReading(1, C.SKIP_MONTH, 0.95, False)]
    found = resolve_intents(whole, readings)
    assert (found.primary, found.secondary) == (C.DAMAGED_ITEM, C.SKIP_MONTH)

    whole = dict.fromkeys(Category, 0.0) | {C.PAUSE_SUBSCRIPTION: 0.5, C.CANCEL_SUBSCRIPTION: 0.45}
    readings = [ClauseReading(0, C.CANCEL_SUBSCRIPTION, 0.8, False), ClauseReading(1, C.PAUSE_SUBSCRIPTION, 0.9, True)]
    found = resolve_intents(whole, readings)
    assert (found.primary, found.secondary) == (C.CANCEL_SUBSCRIPTION, None)
