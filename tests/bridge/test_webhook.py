"""Reading Chatwoot's webhooks: every real capture parses, and each kind of event gets the right decision."""

from __future__ import annotations

import pytest

from bridge.webhook import Interpretation, WebhookRefused, fingerprint, html_to_text, interpret, parse
from schemas.domain import Channel
from tests.bridge import payloads


def decide(payload: dict) -> Interpretation:
    return interpret(payload, default_account_id=1)


@pytest.mark.parametrize("name", sorted(payloads.all_real()))
def test_every_real_capture_parses(name: str) -> None:
    meaning = decide(payloads.real(name))
    # None of the captures is a message the bot owes an answer to: all are in conversations people own ("open"),
    # outgoing, templates or conversation events.
    assert meaning.inbound is None
    assert meaning.ignored
    assert meaning.seen is not None and meaning.seen.status in ("open", "pending")


def test_the_v4_capture_in_a_bot_owned_conversation_becomes_plain_text() -> None:
    capture = payloads.real("message_created_incoming_webwidget_v4")
    assert capture["content"] == "<p>hello chatwoot</p>\n"
    capture["conversation"]["status"] = "pending"
    meaning = decide(capture)
    assert meaning.inbound is not None
    request = meaning.inbound.request
    assert request.text == "hello chatwoot"
    assert request.conversation_id == "cw-1-6" and request.message_id == "cw-1-m126"
    assert request.channel is Channel.WEB_WIDGET
    assert request.contact.name == "morning-rain-190"
    assert meaning.inbound.dedupe_key == "cw-1-m126"


def test_html_content_without_a_plain_copy_is_turned_into_text() -> None:
    payload = payloads.incoming("x")
    payload["conversation"]["messages"] = []
    payload["content"] = "<p>My jar of <strong>honey</strong> broke &amp; leaked</p>\n<p>Order 4411<br>Thanks</p>\n"
    meaning = decide(payload)
    assert meaning.inbound is not None
    assert meaning.inbound.request.text == "My jar of honey broke & leaked\n\nOrder 4411\nThanks"  # paragraphs kept


def test_v3_plain_content_is_taken_as_is() -> None:
    meaning = decide(payloads.incoming("I want to skip next month", version="v3"))
    assert meaning.inbound is not None
    assert meaning.inbound.request.text == "I want to skip next month"


@pytest.mark.parametrize(("html", "text"), [
    ("<p>hello</p>\n", "hello"),
    ("<p>a</p><p></p><p></p><p>b</p>", "a\n\nb"),
    ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
    ("<p>5 &lt; 6 &amp;&amp; &quot;ok&quot;</p>", '5 < 6 && "ok"'),
    ("<p><a href='https://x.example'>link</a> <em>text</em></p>", "link text"),
])
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_an_attachment_only_photo_is_passed_on_as_evidence() -> None:
    meaning = decide(payloads.photo())
    assert meaning.inbound is not None
    request = meaning.inbound.request
    assert request.text is None
    assert [str(a.url) for a in request.attachments] == [
        "https://cdn.example.com/rails/active_storage/blobs/broken-jar.jpg"]
    assert request.attachments[0].content_type == "image/jpeg"
    assert request.channel is Channel.WHATSAPP
    assert meaning.inbound.account_id == 71


def test_the_redacted_attachment_capture_has_nothing_usable_to_answer() -> None:
    capture = payloads.real("message_created_incoming_attachment_whatsapp_v4")  # data_url "[REDACTED]", pending
    meaning = decide(capture)
    assert meaning.inbound is None and meaning.ignored == "nothing to answer (no text, no image)"


@pytest.mark.parametrize(("payload", "why"), [
    (payloads.private_note(), "a private note"),
    (payloads.template(), "not an incoming message (template)"),
    (payloads.agent_reply(status="pending"), "not an incoming message (outgoing)"),
    (payloads.incoming(status="open"), "the conversation is not the bot's"),
    (payloads.incoming(status="resolved"), "the conversation is not the bot's"),
    (payloads.button_message(), "an update that is not a button answer"),
    (payloads.button_answer("confirm:1", status="open"), "the conversation is not the bot's"),
    (payloads.status_changed("open"), "conversation_status_changed needs no answer"),
    ({"event": "webwidget_triggered", "id": 1}, "webwidget_triggered is not handled"),
])
def test_what_the_bridge_ignores(payload: dict, why: str) -> None:
    meaning = decide(payload)
    assert meaning.inbound is None
    assert meaning.ignored == why


def test_the_bots_own_message_is_an_echo_with_its_fingerprint() -> None:
    payload = payloads.echo_payload(49, 9001, "Your box ships on **June 3**.", False, "pending")
    meaning = decide(payload)
    assert meaning.inbound is None and meaning.echo is not None
    # The plain copy inside the conversation is what the bot sent, Markdown and all.
    assert meaning.echo.fingerprint == fingerprint(False, "Your box ships on **June 3**.")
    assert meaning.echo.message_id == 9001
    note = decide(payloads.echo_payload(49, 9002, "note", True, "pending"))
    assert note.echo is not None and note.echo.fingerprint == fingerprint(True, "note")


def test_a_button_click_is_a_button_answer_to_the_bots_message() -> None:
    meaning = decide(payloads.button_answer("confirm:17", "Yes", conversation=49, message_id=99600))
    assert meaning.inbound is not None
    request = meaning.inbound.request
    assert request.button_value == "confirm:17" and request.text is None
    assert request.message_id == "cw-1-m99600-select" and meaning.inbound.dedupe_key == "cw-1-m99600-select"
    assert request.contact.email == "redacted-contact@example.com"


def test_conversation_events_report_the_status() -> None:
    meaning = decide(payloads.status_changed("resolved", conversation=24))
    assert meaning.seen is not None
    assert (meaning.seen.account_id, meaning.seen.conversation_id, meaning.seen.status) == (1, 24, "resolved")


def test_long_text_is_cut_to_what_the_orchestrator_takes_and_nul_bytes_are_dropped() -> None:
    meaning = decide(payloads.incoming("a\x00b" + "x" * 5000))
    assert meaning.inbound is not None
    text = meaning.inbound.request.text
    assert text is not None and len(text) == 4000 and text.startswith("abx")


@pytest.mark.parametrize("email", ["not an email", "dana@localhost", "", "dana\x00@example.com"])
def test_a_contact_with_a_malformed_email_is_answered_without_it(email: str) -> None:
    meaning = decide(payloads.incoming("where is my box?", email=email))
    assert meaning.inbound is not None
    assert meaning.inbound.request.contact.email is None and meaning.inbound.request.text == "where is my box?"
    assert decide(payloads.incoming(email="Dana@Example.com")).inbound.request.contact.email == "Dana@example.com"


def test_control_characters_in_the_message_and_contact_are_dropped_not_refused() -> None:
    payload = payloads.incoming("where\x1b[2J is my\x08 box?\tthanks")
    payload["conversation"]["meta"]["sender"]["name"] = "Dana\x00\x07"
    meaning = decide(payload)
    assert meaning.inbound is not None
    assert meaning.inbound.request.text == "where[2J is my box?\tthanks"
    assert meaning.inbound.request.contact.name == "Dana"


@pytest.mark.parametrize(("body", "field"), [
    (b"not json", None),
    (b"[1, 2]", "event"),
    (b'{"no": "event"}', "event"),
])
def test_bodies_that_are_not_webhooks(body: bytes, field: str | None) -> None:
    with pytest.raises(WebhookRefused) as refused:
        parse(body)
    assert refused.value.status == 400 and refused.value.field == field


def test_a_message_event_missing_its_conversation_is_refused_with_the_field() -> None:
    payload = payloads.incoming()
    del payload["conversation"]
    with pytest.raises(WebhookRefused) as refused:
        decide(payload)
    assert refused.value.status == 400 and refused.value.field == "conversation"
