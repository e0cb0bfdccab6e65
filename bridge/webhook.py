"""Chatwoot webhooks in: verify the signature, parse the payload, and decide what (if anything) the bridge owes it.

Pure apart from the clock the caller passes: the HTTP handler stores what `interpret` returns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from schemas.chatwoot import (
    BOT_OWNED_STATUS,
    CONVERSATION_EVENTS,
    MESSAGE_EVENTS,
    ConversationEvent,
    MessageEvent,
    Sender,
)
from schemas.domain import Channel
from schemas.errors import ErrorCode
from schemas.inputs import UNSAFE_CHARACTER
from schemas.turns import MAX_TEXT, Attachment, Contact, TurnRequest

# Chatwoot signs "{timestamp}.{body}"; a timestamp further than this from our clock is a replay (or a bad clock).
MAX_SKEW_S = 300
MAX_ATTACHMENTS = 10

CHANNELS = {
    "Channel::WebWidget": Channel.WEB_WIDGET,
    "Channel::Whatsapp": Channel.WHATSAPP,
    "Channel::FacebookPage": Channel.FACEBOOK,
    "Channel::Instagram": Channel.FACEBOOK,
    "Channel::Email": Channel.EMAIL,
    "Channel::Telegram": Channel.TELEGRAM,
    "Channel::Sms": Channel.SMS,
    "Channel::TwilioSms": Channel.SMS,
    "Channel::Api": Channel.API,
}


class WebhookRefused(Exception):
    """A request the bridge will not take, as the typed error the handler answers with."""

    def __init__(self, status: int, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


# ---------------------------------------------------------------------------------------------------- signature
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """What Chatwoot sends in X-Chatwoot-Signature (lib/webhooks/trigger.rb)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise WebhookRefused (401) unless the body is signed with `secret` at a fresh timestamp."""
    signature = headers.get("x-chatwoot-signature")
    timestamp = headers.get("x-chatwoot-timestamp")
    if not signature:
        raise WebhookRefused(401, ErrorCode.FORBIDDEN, "the webhook is not signed", "X-Chatwoot-Signature")
    if not timestamp:
        raise WebhookRefused(401, ErrorCode.FORBIDDEN, "the webhook has no timestamp", "X-Chatwoot-Timestamp")
    if not timestamp.isdigit():
        raise WebhookRefused(401, ErrorCode.FORBIDDEN, "the timestamp is not a Unix time", "X-Chatwoot-Timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW_S:
        raise WebhookRefused(401, ErrorCode.FORBIDDEN, f"the timestamp is more than {MAX_SKEW_S} s from now "
                             "(a replay, or a clock out of step)", "X-Chatwoot-Timestamp")
    # Compare in constant time: a timing difference would leak how much of a forged signature is right.
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode()):
        raise WebhookRefused(401, ErrorCode.FORBIDDEN, "the signature does not match the body", "X-Chatwoot-Signature")


# ---------------------------------------------------------------------------------------------------- text
class _TextOf(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """v4 renders a customer's Markdown to HTML ("<p>hello</p>"): the orchestrator reads plain text."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fingerprint(private: bool, content: str) -> str:
    """Identifies a message the bridge posted, to recognise Chatwoot's echo of it (whitespace may be normalised)."""
    return hashlib.sha256(f"{int(private)}|{' '.join(content.split())}".encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------------- interpret
@dataclass(frozen=True)
class Seen:
    """The latest state of a conversation that a webhook showed."""

    account_id: int
    conversation_id: int
    status: str


@dataclass(frozen=True)
class Inbound:
    """A customer's message (or button press) the bridge owes an answer to."""

    dedupe_key: str
    account_id: int
    conversation_id: int
    request: TurnRequest


@dataclass(frozen=True)
class Echo:
    """The bot's own message, as Chatwoot echoes it: proof that a post went through."""

    account_id: int
    conversation_id: int
    message_id: int
    fingerprint: str


@dataclass(frozen=True)
class Interpretation:
    seen: Seen | None = None
    inbound: Inbound | None = None
    echo: Echo | None = None
    ignored: str | None = None  # why nothing is owed


def parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused(400, ErrorCode.INVALID_ARGUMENT, "the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise WebhookRefused(400, ErrorCode.INVALID_ARGUMENT, "the body has no \"event\"", "event")
    return data


def interpret(data: dict[str, Any], default_account_id: int | None = None) -> Interpretation:
    event = data["event"]
    try:
        if event in MESSAGE_EVENTS:
            return _message(MessageEvent.model_validate(data))
        if event in CONVERSATION_EVENTS:
            conversation = ConversationEvent.model_validate(data)
            account = conversation.account_id() or default_account_id
            seen = Seen(account, conversation.id, conversation.status) if account is not None else None
            return Interpretation(seen=seen, ignored=f"{event} needs no answer")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise WebhookRefused(400, ErrorCode.INVALID_ARGUMENT, f"not a Chatwoot {event} payload: {first['msg']}",
                             field) from None
    return Interpretation(ignored=f"{event} is not handled")


def _message(event: MessageEvent) -> Interpretation:
    conversation = event.conversation
    seen = Seen(event.account.id, conversation.id, conversation.status)
    own = next((m for m in conversation.messages if m.id == event.id), None)
    by_bot = (event.sender is not None and event.sender.type == "agent_bot") or (
        own is not None and own.sender_type == "AgentBot")
    attributes = event.content_attributes
    if event.event == "message_updated":
        if event.content_type != "input_select" or attributes is None or not attributes.submitted_values:
            return Interpretation(seen=seen, ignored="an update that is not a button answer")
        if conversation.status != BOT_OWNED_STATUS:
            return Interpretation(seen=seen, ignored="the conversation is not the bot's")
        chosen = attributes.submitted_values[0]
        value = _storable(str(chosen.value) if chosen.value is not None else (chosen.title or ""))
        if not value:
            return Interpretation(seen=seen, ignored="the button answer has no value")
        request = TurnRequest(conversation_id=_conversation_ref(event), message_id=f"{_message_ref(event)}-select",
                              channel=_channel(conversation.channel),
                              contact=_contact(conversation.meta.sender if conversation.meta else None),
                              button_value=value[:200])
        return Interpretation(seen=seen, inbound=Inbound(f"{_message_ref(event)}-select", event.account.id,
                                                         conversation.id, request))
    text = _plain_text(event, own.content if own else None)
    if event.message_type == "outgoing" and by_bot:
        if text is None:
            return Interpretation(seen=seen, ignored="the bot's own attachment")
        return Interpretation(seen=seen, echo=Echo(event.account.id, conversation.id, event.id,
                                                   fingerprint(event.private, text)),
                              ignored="the bot's own message")
    if event.private:
        return Interpretation(seen=seen, ignored="a private note")
    if event.message_type != "incoming":
        return Interpretation(seen=seen, ignored=f"not an incoming message ({event.message_type})")
    if conversation.status != BOT_OWNED_STATUS:
        return Interpretation(seen=seen, ignored="the conversation is not the bot's")
    attachments = _images(event)
    text = _storable(text)[:MAX_TEXT] if text else None
    if not (text and text.strip()) and not attachments:
        return Interpretation(seen=seen, ignored="nothing to answer (no text, no image)")
    request = TurnRequest(conversation_id=_conversation_ref(event), message_id=_message_ref(event),
                          channel=_channel(conversation.channel),
                          contact=_contact(conversation.meta.sender if conversation.meta else event.sender),
                          text=text or None, attachments=attachments)
    return Interpretation(seen=seen, inbound=Inbound(_message_ref(event), event.account.id, conversation.id, request))


def _conversation_ref(event: MessageEvent) -> str:
    return f"cw-{event.account.id}-{event.conversation.id}"


def _message_ref(event: MessageEvent) -> str:
    return f"cw-{event.account.id}-m{event.id}"


def _plain_text(event: MessageEvent, plain: str | None) -> str | None:
    """The message's text: the plain copy inside the conversation when Chatwoot sent one, else the top-level content
    with any HTML (v4) removed."""
    if plain is not None:
        return plain
    if event.content is None:
        return None
    return html_to_text(event.content) if "<" in event.content else event.content


def _channel(name: str | None) -> Channel:
    return CHANNELS.get(name or "", Channel.API)


def _storable(text: str) -> str:
    """The text without the characters the orchestrator refuses (NUL, other control characters, lone surrogates):
    a customer's message is answered whatever their client put in it."""
    return UNSAFE_CHARACTER.sub("", text)


def _contact(sender: Sender | None) -> Contact:
    """What Chatwoot knows of the customer, as the orchestrator takes it: whatever does not fit is left out (a
    malformed e-mail in the contact's record is dropped, not sent), so the customer is still answered."""
    if sender is None:
        return Contact()
    name = _storable(sender.name)[:200] if sender.name else None
    phone = _storable(sender.phone_number) if sender.phone_number else None
    known = {"name": name or None, "phone": phone if phone and len(phone) <= 40 else None}
    try:
        return Contact.model_validate({**known, "email": sender.email or None})
    except ValidationError:
        return Contact.model_validate(known)


def _images(event: MessageEvent) -> list[Attachment]:
    """The customer's photos (evidence for a damage claim); other files are not passed on."""
    found: list[Attachment] = []
    for attachment in event.attachments:
        url = attachment.data_url or ""
        parts = urlsplit(url)
        if attachment.file_type != "image" or parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        guessed = mimetypes.guess_type(parts.path)[0]
        content_type = guessed if guessed and guessed.startswith("image/") else "image/jpeg"
        found.append(Attachment.model_validate({"url": url, "content_type": content_type}))
    return found[:MAX_ATTACHMENTS]
