"""Webhook bodies for the bridge's tests, built from the real Chatwoot captures in tests/fixtures/chatwoot-payloads/
(copied from shared/chatwoot-payloads/, see SOURCES.md there).

Each builder starts from a real capture and changes only what the case needs (ids, the text, the conversation's
status), so that everything else stays shaped exactly as Chatwoot sends it. Cases no public capture shows (a private
note, the bot's own message, a button answer) are built from the nearest capture along what Chatwoot's source and
its issues #8242 / #14804 say they look like; each says how.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from tests.helpers import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "chatwoot-payloads"
BOT_SENDER = {"id": 1, "name": "Lev Haolam", "avatar_url": "", "type": "agent_bot"}


@cache
def _real(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def real(name: str) -> dict[str, Any]:
    return copy.deepcopy(_real(name))


def all_real() -> dict[str, dict[str, Any]]:
    return {path.stem: real(path.stem) for path in sorted(FIXTURES.glob("*.json"))}


def _place(payload: dict[str, Any], *, account: int, conversation: int, message_id: int, status: str) -> None:
    payload["account"]["id"] = account
    payload["id"] = message_id
    payload["conversation"]["id"] = conversation
    payload["conversation"]["status"] = status
    for message in payload["conversation"]["messages"]:
        message["id"] = message_id
        message["conversation_id"] = conversation
        message["account_id"] = account


def incoming(text: str = "Hello, where is my box?", *, conversation: int = 6, message_id: int = 126,
             account: int = 1, status: str = "pending", version: str = "v4", email: str | None = None
             ) -> dict[str, Any]:
    """A customer's text in the web widget. v4: top-level content as HTML, the plain copy in messages[]; v3: plain."""
    payload = real(f"message_created_incoming_webwidget_{version}")
    if version == "v3":
        payload["account"]["id"] = account
        payload["id"] = message_id
        payload["conversation"]["id"] = conversation
        payload["conversation"]["status"] = status
        payload["content"] = text
    else:
        _place(payload, account=account, conversation=conversation, message_id=message_id, status=status)
        html = "".join(f"<p>{line}</p>\n" for line in text.replace("&", "&amp;").replace("<", "&lt;").split("\n"))
        payload["content"] = html
        payload["conversation"]["messages"][0]["content"] = text
        payload["conversation"]["messages"][0]["processed_message_content"] = text
    if email is not None:
        payload["conversation"]["meta"]["sender"]["email"] = email
    return payload


def photo(url: str = "https://cdn.example.com/rails/active_storage/blobs/broken-jar.jpg", *, conversation: int = 28016,
          message_id: int = 14975373, account: int = 71, status: str = "pending") -> dict[str, Any]:
    """The WhatsApp capture of an attachment-only message; its redacted data_url replaced by a usable one."""
    payload = real("message_created_incoming_attachment_whatsapp_v4")
    _place(payload, account=account, conversation=conversation, message_id=message_id, status=status)
    for attachment in payload["attachments"] + payload["conversation"]["messages"][0]["attachments"]:
        attachment["data_url"] = url
        attachment["thumb_url"] = url
        attachment["message_id"] = message_id
    return payload


def private_note(text: str = "Customer called, refund approved", *, conversation: int = 49, message_id: int = 99524,
                 account: int = 1, status: str = "pending") -> dict[str, Any]:
    """No public capture: the agent's outgoing v3 capture with `private: true` (how Chatwoot marks a note)."""
    payload = real("message_created_outgoing_agent_webwidget_v3")
    _place(payload, account=account, conversation=conversation, message_id=message_id, status=status)
    payload["private"] = True
    payload["content"] = text
    payload["conversation"]["messages"][0].update(private=True, content=text, processed_message_content=text)
    return payload


def agent_reply(text: str = "Teste2", *, conversation: int = 49, message_id: int = 99523, account: int = 1,
                status: str = "open") -> dict[str, Any]:
    payload = real("message_created_outgoing_agent_webwidget_v3")
    _place(payload, account=account, conversation=conversation, message_id=message_id, status=status)
    payload["content"] = text
    payload["conversation"]["messages"][0].update(content=text, processed_message_content=text)
    return payload


def _from_bot(payload: dict[str, Any]) -> None:
    """A bot's message: sender `agent_bot` at the top (AgentBot#webhook_data), sender_type `AgentBot` inside (as in
    the WhatsApp status_changed capture)."""
    payload["sender"] = dict(BOT_SENDER)
    inner = payload["conversation"]["messages"][0]
    inner.update(sender_type="AgentBot", sender_id=BOT_SENDER["id"], sender=dict(BOT_SENDER))


def echo_payload(conversation: int, message_id: int, content: str, private: bool, status: str,
                 account: int = 1) -> dict[str, Any]:
    """Chatwoot's message_created for the bot's own new message; v4 renders the top-level content as HTML."""
    payload = agent_reply(content, conversation=conversation, message_id=message_id, account=account, status=status)
    _from_bot(payload)
    payload["private"] = private
    payload["conversation"]["messages"][0]["private"] = private
    payload["content"] = "".join(f"<p>{line}</p>\n" for line in content.split("\n"))
    return payload


def button_answer(value: str, title: str = "Yes", *, items: list[dict[str, str]] | None = None, conversation: int = 49,
                  message_id: int = 99600, account: int = 1, status: str = "pending") -> dict[str, Any]:
    """No public capture: issues #8242 and #14804 describe it. A click arrives as message_updated of the bot's own
    input_select message, with `submitted_values` added, the sender still the bot."""
    items = items or [{"title": "Yes", "value": value}, {"title": "No", "value": "decline:1"}]
    payload = echo_payload(conversation, message_id, "Pause subscription #12 for 2 months?", False, status, account)
    payload["event"] = "message_updated"
    payload["content_type"] = "input_select"
    payload["content_attributes"] = {"items": items, "submitted_values": [{"title": title, "value": value}]}
    inner = payload["conversation"]["messages"][0]
    inner.update(content_type="input_select", content_attributes=payload["content_attributes"])
    return payload


def button_message(*, conversation: int = 49, message_id: int = 99600, account: int = 1) -> dict[str, Any]:
    """The same input_select message before anyone clicked (message_updated also fires for status changes)."""
    payload = button_answer("confirm:1", conversation=conversation, message_id=message_id, account=account)
    del payload["content_attributes"]["submitted_values"]
    return payload


def template(*, conversation: int = 6, account: int = 1, status: str = "pending") -> dict[str, Any]:
    payload = real("message_created_template_input_email_webwidget_v4")
    _place(payload, account=account, conversation=conversation, message_id=103, status=status)
    return payload


def status_changed(status: str, *, conversation: int = 24, account: int = 1) -> dict[str, Any]:
    payload = real("conversation_status_changed_whatsapp_v3")
    payload["id"] = conversation
    payload["status"] = status
    for message in payload["messages"]:
        message["conversation_id"] = conversation
        message["account_id"] = account
    return payload
