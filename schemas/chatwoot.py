"""Chatwoot webhook payloads as the bridge reads them, modelled on bodies captured from real v3 and v4 instances
(shared/chatwoot-payloads/). Only the fields the bridge uses are declared; Chatwoot adds fields between versions, so
anything else is ignored rather than refused.

Facts the models encode (see SOURCES.md beside the captures and Chatwoot's source):
- `message_type` is a string at the top level ("incoming", "outgoing", "activity", "template") but an integer inside
  `conversation.messages[]` (0 incoming, 1 outgoing, 2 activity, 3 template).
- The top-level `sender` of a contact message has no `type`; agents carry "user", bots "agent_bot"; templates have
  `sender: null`.
- In v4 the top-level `content` is Markdown rendered to HTML; `conversation.messages[].content` stays plain.
- `conversation.id` is the display id that the REST API takes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
CONVERSATION_EVENTS = frozenset({"conversation_created", "conversation_updated", "conversation_status_changed",
                                 "conversation_opened", "conversation_resolved"})
BOT_OWNED_STATUS = "pending"  # a conversation an agent bot handles; people work on "open" ones


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Lenient):
    id: int
    name: str | None = None


class Inbox(_Lenient):
    id: int
    name: str | None = None


class Sender(_Lenient):
    id: int | None = None
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    type: str | None = None  # absent on a contact at the top level of a message event


class Attachment(_Lenient):
    id: int | None = None
    file_type: str | None = None  # image, audio, video, file, location, fallback, ...
    data_url: str | None = None
    extension: str | None = None
    file_size: int | None = None


class SelectItem(_Lenient):
    title: str
    value: str


class SubmittedValue(_Lenient):
    title: str | None = None
    value: Any = None


class ContentAttributes(_Lenient):
    items: list[SelectItem] | None = None
    submitted_values: list[SubmittedValue] | None = None


class ConversationMessage(_Lenient):
    """A message inside `conversation.messages[]` (the conversation's latest message)."""

    id: int
    content: str | None = None
    message_type: int
    private: bool = False
    account_id: int | None = None
    content_type: str | None = None
    sender_type: str | None = None


class ConversationMeta(_Lenient):
    sender: Sender | None = None  # the contact
    assignee: Sender | None = None


class Conversation(_Lenient):
    id: int  # the display id the REST API takes
    inbox_id: int | None = None
    channel: str | None = None  # "Channel::WebWidget", "Channel::Whatsapp", ...
    status: str
    messages: list[ConversationMessage] = Field(default_factory=list)
    meta: ConversationMeta | None = None

    def account_id(self) -> int | None:
        """Conversation events carry no account of their own; their latest message does."""
        return next((m.account_id for m in self.messages if m.account_id is not None), None)


class MessageEvent(_Lenient):
    """`message_created` / `message_updated`: the message itself at the top level, its conversation inside."""

    event: str
    id: int
    content: str | None = None
    content_type: str | None = None
    content_attributes: ContentAttributes | None = None
    message_type: str
    private: bool = False
    sender: Sender | None = None
    conversation: Conversation
    account: Account
    inbox: Inbox | None = None
    attachments: list[Attachment] = Field(default_factory=list)


class ConversationEvent(Conversation):
    """`conversation_*` events: the conversation at the top level."""

    event: str
    changed_attributes: list[dict[str, Any]] | None = None
