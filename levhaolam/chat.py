"""`levhaolam chat`: talk to the platform in a terminal as a customer. Buttons are numbered choices; `/photo URL`
sends a photo; `/quit` ends. Each reply shows what the eval gate decided."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from rich.console import Console

from schemas.turns import Button, Decision, TurnRequest, TurnResponse

GATE_NOTES = {
    Decision.AUTO_SEND: "sent",
    Decision.DRAFT: "draft: a person reviews this before it is sent",
    Decision.ESCALATE: "handed to a person",
}

Turn = Callable[[TurnRequest], Awaitable[TurnResponse]]


def request_for(line: str, buttons: list[Button], conversation: str, email: str | None) -> TurnRequest | None:
    """The customer's input as a turn: a listed number picks a button, `/photo URL` attaches a photo, anything else
    is text."""
    text = line.strip()
    message_id = uuid.uuid4().hex[:16]
    contact = {"email": email}
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        # Only the value, as the bridge sends a pressed button: a title as text would be routed by its wording
        # ("20% off the next box" is not a skip), and the value already says which choice it was.
        return TurnRequest(conversation_id=conversation, message_id=message_id, contact=contact,
                           button_value=buttons[int(text) - 1].value)
    if text.startswith("/photo "):
        url = text.removeprefix("/photo ").strip()
        return TurnRequest(conversation_id=conversation, message_id=message_id, contact=contact,
                           attachments=[{"url": url, "content_type": "image/jpeg"}])
    if not text:
        return None
    return TurnRequest(conversation_id=conversation, message_id=message_id, contact=contact, text=text)


def show(console: Console, response: TurnResponse) -> None:
    console.print(f"[bold cyan]Lev Haolam>[/] {response.reply}", highlight=False)
    for number, button in enumerate(response.buttons, start=1):
        console.print(f"   [bold][{number}][/] {button.title}", highlight=False)
    for action in response.actions_taken:
        console.print(f"   [green]done:[/] {action.summary}", highlight=False)
    note = GATE_NOTES[response.decision]
    console.print(f"   [dim]({response.category.value}; {note}; {', '.join(response.reasons)})[/]", highlight=False)


async def converse(turn: Turn, console: Console, email: str | None = None) -> None:
    conversation = f"chat-{uuid.uuid4().hex[:12]}"
    console.print("[dim]You are a customer. Type a message; numbers pick a button; /photo URL sends a photo; "
                  "/quit ends.[/]")
    buttons: list[Button] = []
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except EOFError:
            return
        if line.strip() in ("/quit", "/exit"):
            return
        try:
            request = request_for(line, buttons, conversation, email)
        except ValidationError as exc:  # e.g. `/photo ftp://...`: said in one line, and the chat goes on
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "message"
            console.print(f"[red]not sent:[/] {field}: {first['msg']}", highlight=False)
            continue
        if request is None:
            continue
        response = await turn(request)
        show(console, response)
        buttons = response.buttons
