"""What the bridge does in Chatwoot with one orchestrator answer: a plan of Chatwoot actions. Pure: no I/O.

The plan is stored with the job before its first action runs, so a retried job replays the same actions (and skips
the ones already done) even if the settings changed in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.turns import Button, Decision, TurnResponse

DEFAULT_HANDOFF_MESSAGE = ("Thank you for your message. A member of our team will take it from here and reply in "
                           "this conversation shortly.")
NOTE_QUOTE_LIMIT = 1000  # the customer's words in the note: enough to act on, not a transcript


class PostMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["message"] = "message"
    content: str = Field(min_length=1)
    private: bool = False  # a note only the team sees
    buttons: list[Button] = Field(default_factory=list)  # sent as content_type input_select


class SetStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["status"] = "status"
    status: Literal["open", "pending", "resolved"]


class AssignTeam(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["assign_team"] = "assign_team"
    team_id: int = Field(ge=1)


Action = Annotated[PostMessage | SetStatus | AssignTeam, Field(discriminator="kind")]


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    actions: list[Action] = Field(default_factory=list)
    handoff: bool = False


@dataclass(frozen=True)
class Handoff:
    """How a hand-off looks: the team that gets the conversation, what the customer reads."""

    team_id: int | None = None
    message: str | None = None


def plan(response: TurnResponse, customer_said: str, handoff: Handoff) -> Plan:
    """Auto-send: the reply (with its buttons). Draft or escalate: a note for the team, the customer's hand-off
    message, the team, and the conversation opened for people (a bot owns `pending` ones, people `open` ones)."""
    if response.decision is Decision.AUTO_SEND:
        if not response.reply.strip():
            return Plan()
        return Plan(actions=[PostMessage(content=response.reply, buttons=response.buttons)])
    # On escalation the orchestrator already wrote the customer's hand-off words, in their language; a draft's reply
    # is for the team to review, so the customer reads the configured sentence instead.
    own_words = response.reply.strip() if response.decision is Decision.ESCALATE else ""
    public = handoff.message or own_words or DEFAULT_HANDOFF_MESSAGE
    actions: list[Action] = [PostMessage(content=handoff_note(response, customer_said), private=True),
                             PostMessage(content=public)]
    if handoff.team_id is not None:
        actions.append(AssignTeam(team_id=handoff.team_id))
    actions.append(SetStatus(status="open"))
    return Plan(actions=actions, handoff=True)


def handoff_note(response: TurnResponse, customer_said: str) -> str:
    """The private note a person reads first: what the customer wants, what was done, why a person is needed."""
    category = response.category.value + (f" (and {response.secondary.value})" if response.secondary else "")
    why = ("the reply needs a person's review before it is sent" if response.decision is Decision.DRAFT
           else "a person should take over")
    said = customer_said.strip()
    if len(said) > NOTE_QUOTE_LIMIT:
        said = said[:NOTE_QUOTE_LIMIT] + "..."
    lines = [f"AI hand-off: {why}.",
             f"Category: {category}",
             f"Why: {', '.join(response.reasons) or 'not given'}",
             f"Customer wrote: {said or '(no text)'}"]
    if response.actions_taken:
        lines.append("Done so far: " + "; ".join(action.summary for action in response.actions_taken))
    else:
        lines.append("Done so far: nothing was changed.")
    if response.decision is Decision.DRAFT and response.reply.strip():
        lines.append(f"Draft reply, for you to review and send:\n{response.reply.strip()}")
    elif response.reply.strip():
        lines.append(f"The customer was told: {response.reply.strip()}")
    lines.append(f"Trace: {response.trace_id}")
    return "\n".join(lines)


def for_people(planned: Plan) -> Plan:
    """A person took the conversation over while the bot was thinking: the customer gets nothing from the bot; what
    it would have said goes to the team as a note, and the conversation's status and team stay as the person set."""
    actions: list[Action] = []
    for action in planned.actions:
        if isinstance(action, PostMessage):
            content = action.content if action.private else (
                "Not sent: a person took this conversation over before the AI answered. It would have said:\n"
                + action.content)
            actions.append(PostMessage(content=content, private=True))
    return Plan(actions=actions, handoff=planned.handoff)


def customer_text(text: str | None, button_value: str | None, attachments: int) -> str:
    """What the customer sent, in a few words, for the team's note."""
    if text:
        return text
    if button_value:
        return f"(pressed the button {button_value!r})"
    return f"(sent {attachments} photo{'s' if attachments != 1 else ''})"
