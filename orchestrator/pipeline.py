"""One turn: pending confirmation → router → input guard → identification → category brain → output guard →
eval gate → persist (with the turn's cost and the customer's memory).

The code, not a model, decides the category; the category decides which MCP tools the turn's token lists and
which gate policy applies. Conversation state lives in PostgreSQL and a conversation's turns are serialised by
an advisory lock, so any replica can take the next turn; a retried message (same id) replays its stored answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

import telemetry
from access.tokens import mint_token
from orchestrator import learning, lexicon
from orchestrator.brain import Brain, BrainInput, BrainReply, Proposal
from orchestrator.categories import Categories
from orchestrator.connections import McpConnections
from orchestrator.costs import PriceTable, TurnRecord, current_turn, load_prices, recording
from orchestrator.gate import GateInput, decide
from orchestrator.guardrails import PASS, Guard, ReplyFacts, Verdict
from orchestrator.learning import Lesson
from orchestrator.memory import MIN_TEXT_FOR_LANGUAGE, CustomerMemory, TurnFacts, recall, remember_turn
from orchestrator.replies import say
from orchestrator.router import Router
from orchestrator.sealing import Sealer
from orchestrator.tools import ToolOutcome, TurnTools, note_outcome
from schemas.categories import Category, Urgency
from schemas.routing import RouterOutput
from schemas.services import McpServer
from schemas.turns import ActionTaken, Button, Decision, TurnRequest, TurnResponse
from store import conversations as store
from store import customer_memory as memory_store
from store import learnings as learnings_store
from telemetry import describe

log = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 300
IDENTIFY_TOOLS = {"identify_customer": McpServer.CUSTOMERS}
# While we wait for a detail ("which item?"), a reply the router reads as another request at least this firmly is one.
MOVE_ON_CONFIDENCE = 0.8
ASKS_BEFORE_A_PERSON = 2  # the same question asked this many times without a usable answer: a person takes over
# Brains reach servers over HTTP; any of these means a dependency is down, not that the customer did wrong.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, psycopg.OperationalError)


def _dependency_errors() -> tuple[type[BaseException], ...]:
    from agents.exceptions import AgentsException
    from mcp.shared.exceptions import MCPError
    from openai import OpenAIError

    return (*DEPENDENCY_ERRORS, AgentsException, MCPError, OpenAIError)


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class MessageConflict(Exception):
    """A message id already stored with other content: a retry repeats its message, a new message has a new id."""

    def __init__(self, message_id: str) -> None:
        super().__init__(f"message {message_id} of this conversation was already received with other content; a "
                         "retry must repeat the message as it was, a new message needs a new message_id")


@dataclass
class TurnOutcome:
    """What the turn produced, before the gate."""

    category: Category
    routing: RouterOutput
    reply: BrainReply
    actions: list[ActionTaken] = field(default_factory=list)
    action_failed: bool = False
    guard: Verdict = PASS  # what the input or output guard stopped, with why
    blocked_reply: str | None = None  # the reply the output guard held back (kept for staff)


@dataclass
class TurnScope:
    """Per turn: the incoming message's row, the customer's memory (read once), the contact's e-mail looked up while
    the router runs, and the question the turn asks (stored with the turn)."""

    message_id: int
    memory: CustomerMemory | None = None
    early_lookup: tuple[str, asyncio.Task[ToolOutcome]] | None = None
    question: store.NewPendingAction | None = None
    identity_conflict: bool = False  # the message named another e-mail than the contact's, who was served
    answered: dict[str, Any] | None = None  # the question of ours this message may answer (category, slot, times)

    def discard_lookup(self, unfinished: set[asyncio.Task[ToolOutcome]]) -> None:
        """A lookup the turn did not use finishes on its own (cancelling it mid-call would cost its pooled connection
        a reconnect); `unfinished` holds it until then, and its failure is nobody's to report."""
        if self.early_lookup is None:
            return
        task = self.early_lookup[1]
        unfinished.add(task)
        task.add_done_callback(_forget(unfinished))  # at once (soon) when it is done already

    async def customer_memory(self, conn: psycopg.AsyncConnection, customer_id: int | None) -> CustomerMemory:
        if customer_id is None:
            return CustomerMemory()
        if self.memory is None:
            self.memory = await recall(conn, customer_id)
        return self.memory

    async def context(self, conn: psycopg.AsyncConnection, customer_id: int | None, category: Category, text: str,
                      language: str) -> tuple[CustomerMemory, list[Lesson]]:
        """The customer's memory (read once a turn) and the category's lessons for this text, in one round trip."""
        async with conn.pipeline():
            remembered = (await memory_store.ask_recall(conn, customer_id)
                          if customer_id is not None and self.memory is None else None)
            lessons = await learnings_store.ask_relevant(conn, category.value, text, language)
            if remembered is not None:
                self.memory = CustomerMemory(await memory_store.recalled(remembered))
            return (await self.customer_memory(conn, customer_id),
                    learning.lessons_of(await learnings_store.relevant_rows(lessons)))


@dataclass
class Pipeline:
    pool: AsyncConnectionPool
    connections: McpConnections
    categories: Categories
    router: Router
    brain_for: Callable[[Category, dict[str, Any]], Brain]
    jwt_secret: str
    clock: Clock = utc_now
    guard: Guard = field(default_factory=Guard)
    prices: PriceTable = field(default_factory=load_prices)

    def __post_init__(self) -> None:
        self._sealer = Sealer(self.jwt_secret)
        self._unfinished: set[asyncio.Task[ToolOutcome]] = set()
        self._errors = _dependency_errors()
        self._tool_names = frozenset(tool for config in self.categories.categories.values()
                                     for tool in config.tool_names) | frozenset(IDENTIFY_TOOLS)

    # ------------------------------------------------------------------ the turn
    @telemetry.traced("turn", describe.turn_request, describe.turn_response)
    async def run(self, request: TurnRequest) -> TurnResponse:
        started = time.perf_counter()
        async with self.pool.connection() as conn:
            # Each statement commits at once: the next turn, waiting on the lock, must see this one's rows the moment
            # the lock is released (in a transaction they would commit only after it, and a retry would run twice).
            await conn.set_autocommit(True)
            scope: TurnScope | None = None
            unlocked = False
            try:
                # One round trip: the lock, then (once it is held) the conversation, the incoming message and the
                # question waiting for its answer.
                body = _body_of(request)
                async with conn.pipeline():
                    await store.lock_conversation(conn, request.conversation_id)
                    incoming = await store.open_turn(conn, request.conversation_id, request.channel.value,
                                                     request.message_id, body, self.clock())
                if incoming.body != body:
                    raise MessageConflict(request.message_id)
                if incoming.stored_response is not None:
                    return TurnResponse.model_validate({**incoming.stored_response, "replayed": True})
                conversation, message_id = incoming.conversation, incoming.message_id
                state = dict(conversation.state)
                trace_id = telemetry.current_trace_id() or uuid.uuid4().hex
                scope = TurnScope(message_id, early_lookup=await self._early_lookup(request, conversation.customer_id))
                with recording() as record:  # every model call and tool output of this turn lands in `record`
                    outcome, customer_id = await self._turn(conn, conversation.id, conversation.customer_id, state,
                                                            request, scope, incoming.pending)
                    outcome = await self._check_reply(conn, conversation.id, outcome, request, state, customer_id,
                                                      record, scope)
                response = self._gate(outcome, request, state, trace_id, record.cost(self.prices),
                                      identity_conflict=scope.identity_conflict)
                state["failures_in_a_row"] = (state.get("failures_in_a_row", 0) + 1
                                              if outcome.reply.gave_up or outcome.action_failed else 0)
                # One round trip: the customer's memory and the turn are stored together or not at all, then the lock
                # is released, only after they commit (an unlock inside the transaction would let a retry in before
                # it, to run the turn again). A failed statement skips the rest of the pipeline, the unlock included.
                async with conn.pipeline():
                    async with conn.transaction():
                        if scope.question is not None:
                            await store.add_pending_action(conn, scope.question)
                        await self._store_turn(conn, outcome, response, request, state, customer_id, conversation.id,
                                               message_id, record, started, trace_id)
                    await store.unlock_conversation(conn, request.conversation_id)
                unlocked = True
                return response
            finally:
                if scope is not None:
                    scope.discard_lookup(self._unfinished)
                if not unlocked:
                    await store.unlock_conversation(conn, request.conversation_id)

    async def _store_turn(self, conn: psycopg.AsyncConnection, outcome: TurnOutcome, response: TurnResponse,
                          request: TurnRequest, state: dict[str, Any], customer_id: int | None, conversation_id: int,
                          message_id: int, record: TurnRecord, started: float, trace_id: str) -> None:
        if customer_id is not None:
            await remember_turn(conn, _turn_facts(outcome, response, request, state, customer_id, conversation_id,
                                                  self.clock().date()))
        await store.finish_turn(
            conn, conversation_id=conversation_id, message_id=message_id, customer_id=customer_id, state=state,
            status="handed_off" if response.decision is Decision.ESCALATE else "pending",
            primary=outcome.category.value,
            secondary=outcome.routing.secondary.value if outcome.routing.secondary else None,
            urgency=outcome.routing.urgency.value, confidence=outcome.routing.confidence,
            decision=response.decision.value, reasons=response.reasons, model=outcome.reply.model,
            latency_ms=int((time.perf_counter() - started) * 1000), cost_usd=response.cost, trace_id=trace_id,
            reply=response.reply, response=response.model_dump(mode="json"), usage=record.usage_json(self.prices),
            guard=_guard_json(outcome))

    async def _turn(self, conn: psycopg.AsyncConnection, conversation_id: int, customer_id: int | None,
                    state: dict[str, Any], request: TurnRequest, scope: TurnScope,
                    pending: store.PendingActionRow | None) -> tuple[TurnOutcome, int | None]:
        text = (request.text or "").strip()
        if pending is not None:
            answer = self._answer_to(pending.button_key, request, text)
            if answer == "yes":
                return await self._confirmed(conn, conversation_id, pending, state, request, scope), customer_id
            language = state.get("language", "en")
            routing = _known_routing(Category(pending.category), language)
            if answer == "other" and not text and request.attachments:
                # A photo is no answer to "shall I go ahead?": the question stays open and is asked again.
                again = BrainReply(say("confirm", language, summary=pending.summary.rstrip(".")),
                                   buttons=_yes_no(language, pending.button_key))
                record = current_turn()
                if record is not None:  # the summary is the server's, from the turn that asked: the reply's evidence
                    record.evidence.append((pending.tool, pending.summary))
                return TurnOutcome(routing.primary, routing, again), customer_id
            await store.resolve_pending_action(conn, pending.id, "declined")
            state.pop("next", None)  # the second request of the message that asked it went with it
            if answer == "no" or not text:
                return TurnOutcome(routing.primary, routing, BrainReply(say("declined", language))), customer_id

        scope.answered = state.pop("awaiting", None)
        routing = await self._route(text, request, state, scope.answered)
        category = routing.primary
        if scope.answered and category.value != scope.answered["category"]:
            state.pop("next", None)  # the customer moved on from the request our question was about
        if len(text) >= MIN_TEXT_FOR_LANGUAGE or "language" not in state:
            state["language"] = routing.language
            state["language_from_text"] = len(text) >= MIN_TEXT_FOR_LANGUAGE
        if customer_id is not None and not state.get("language_from_text"):
            # Too short to tell ("ok", "2"): the language this customer wrote in before, if we know it.
            state["language"] = (await scope.customer_memory(conn, customer_id)).language or state["language"]
        language = state["language"]
        # The input guard decides before identification and before any tool runs (the router has no tools).
        verdict = await self.guard.check_input(text, contact_name=request.contact.name)
        if verdict.tripped:
            log.warning("input guard: %s (%s)", ",".join(verdict.reasons), verdict.detail[:200])
            return TurnOutcome(category, routing, BrainReply(say("holding", language)), guard=verdict), customer_id

        config = self.categories[category]
        if config.needs_customer and customer_id is None:
            customer_id, asked = await self._identify(request, routing, state, text, language, scope)
            if customer_id is None:
                return TurnOutcome(category, routing, asked), None
            if not state.get("language_from_text"):
                language = state["language"] = (await scope.customer_memory(conn, customer_id)).language or language
            deferred = state.pop("deferred", None)
            if deferred:  # the customer gave their e-mail; now do what they first asked for
                text, category = deferred["text"], Category(deferred["category"])
                routing = routing.model_copy(update={"primary": category, "secondary": _category_or_none(
                    deferred.get("secondary"), category)})

        reply = await self._think(conn, conversation_id, category, text, language, customer_id, state, request,
                                  scope)
        following = {"category": routing.secondary.value, "text": text} if routing.secondary else None
        settled = reply.proposal is None and reply.awaiting is None
        if following is None and settled:
            following = state.pop("next", None)  # an earlier message's second request, waiting on this detail
        if following and settled and not reply.gave_up:
            # The first request needed nothing more from the customer: answer the second one in the same turn.
            second = await self._think(conn, conversation_id, Category(following["category"]), following["text"],
                                       language, customer_id, state, request, scope)
            reply = _joined(reply, second)
        elif following and not settled:
            state["next"] = following  # after the proposal is answered, or the detail we asked for arrives
        return TurnOutcome(category, routing, reply), customer_id

    # ------------------------------------------------------------------ steps
    async def _early_lookup(self, request: TurnRequest, customer_id: int | None
                            ) -> tuple[str, asyncio.Task[ToolOutcome]] | None:
        """A conversation not yet bound whose contact carries an e-mail: look it up now, so the customers server works
        on it (on the other core) while the router and the input guard run. They never yield to the event loop, so
        this returns once the lookup's request is written (or the lookup ended). Used only if the turn needs a
        customer and the message names no other e-mail; it reads and changes nothing, so a discarded one costs only
        its call. Started outside the turn's record: its output becomes evidence only when the turn uses it."""
        if customer_id is not None or request.contact.email is None:
            return None
        email = str(request.contact.email)
        sent = asyncio.Event()
        lookup = asyncio.create_task(self._lookup(email, on_request=sent.set))
        written = asyncio.create_task(sent.wait())
        await asyncio.wait({lookup, written}, return_when=asyncio.FIRST_COMPLETED)
        written.cancel()
        return email, lookup

    async def _lookup_contact(self, email: str, scope: TurnScope) -> ToolOutcome:
        """The contact's e-mail: the lookup started while the router ran, or a new one."""
        early = scope.early_lookup
        if early is None or early[0] != email:
            return await self._lookup(email)
        scope.early_lookup = None
        found = await early[1]
        note_outcome(found)
        return found

    @telemetry.traced("lookup customer")
    async def _lookup(self, email: str, on_request: Callable[[], None] | None = None) -> ToolOutcome:
        token = mint_token(self.jwt_secret, subject="orchestrator/identify", scope="identify",
                           tools=list(IDENTIFY_TOOLS), ttl_seconds=TOKEN_TTL_SECONDS)
        async with self.connections.lease([McpServer.CUSTOMERS], token, on_request) as leased:
            return await TurnTools(leased, dict(IDENTIFY_TOOLS)).call("identify_customer", email=email)

    @telemetry.traced("router", result=describe.routing)
    async def _route(self, text: str, request: TurnRequest, state: dict[str, Any],
                     awaiting: dict[str, Any] | None) -> RouterOutput:
        answered = awaiting is not None and _answers(awaiting, text)
        if awaiting and (not text or len(text) < 60 or request.attachments or answered):
            # A short answer to our question ("2", "every other month", a photo) belongs to the question's category,
            # unless it clearly asks for something else ("where is my box?", "never mind, cancel it").
            category = Category(awaiting["category"])
            routed = await self.router.route(text) if text else None
            if routed is not None and _moves_on(routed, category) and not answered:
                return routed
            return _known_routing(category, state.get("language", "en"), routed)
        if not text and request.button_value and state.get("buttons_from"):
            # A button we offered (an item, a retention offer) answers the question of the category that asked.
            return _known_routing(Category(state["buttons_from"]), state.get("language", "en"))
        if not text:
            return _known_routing(Category.DAMAGED_ITEM if request.attachments else Category.OTHER,
                                  state.get("language", "en"))
        return await self.router.route(text)

    @telemetry.traced("identify", result=describe.identified)
    async def _identify(self, request: TurnRequest, routing: RouterOutput, state: dict[str, Any], text: str,
                        language: str, scope: TurnScope) -> tuple[int | None, BrainReply]:
        # The contact's own e-mail (the channel's identity) comes first: an e-mail typed in a message is only how a
        # customer the channel does not know tells us who they are, never a way to switch to somebody else.
        contact = str(request.contact.email) if request.contact.email else None
        typed = str(routing.email) if routing.email else None
        if not contact and not typed:
            state.setdefault("deferred", {"text": text, "category": routing.primary.value,
                                          "secondary": routing.secondary.value if routing.secondary else None})
            state["awaiting"] = {"category": routing.primary.value, "slot": "email"}
            return None, BrainReply(say("ask_email", language), awaiting="email")
        email = contact or typed or ""
        found = await self._lookup_contact(email, scope) if contact else await self._lookup(email)
        if found.ok and contact and typed and not _same_address(contact, typed):
            if found.data.get("found"):
                scope.identity_conflict = True  # served as the contact, and a person reads it before it goes out
            else:
                email = typed
                found = await self._lookup(email)
        if not found.ok or not found.data.get("found"):
            state.setdefault("deferred", {"text": text, "category": routing.primary.value,
                                          "secondary": routing.secondary.value if routing.secondary else None})
            state["awaiting"] = {"category": routing.primary.value, "slot": "email"}
            misses = state["identify_misses"] = state.get("identify_misses", 0) + 1
            return None, BrainReply(say("email_not_found", language, email=email), awaiting="email",
                                    gave_up="customer_not_identified" if misses >= 2 else None)
        state.pop("identify_misses", None)
        return int(found.data["customer"]["id"]), BrainReply("")

    def _token_for(self, category: Category, customer_id: int | None, conversation: str) -> str:
        config = self.categories[category]
        return mint_token(self.jwt_secret, subject=f"orchestrator/{category.value}", scope=category.value,
                          tools=config.tool_names, customer_id=customer_id, conversation_id=conversation,
                          ttl_seconds=TOKEN_TTL_SECONDS)

    @telemetry.traced(describe.brain_name, describe.brain_call, describe.brain_reply)
    async def _think(self, conn: psycopg.AsyncConnection, conversation_id: int, category: Category, text: str,
                     language: str, customer_id: int | None, state: dict[str, Any], request: TurnRequest,
                     scope: TurnScope) -> BrainReply:
        config = self.categories[category]
        memory = state.setdefault("memory", {}).setdefault(category.value, {})
        token = self._token_for(category, customer_id, request.conversation_id)
        # Read while the brain's first tool call is out (the brain awaits it only where it needs it).
        recollection = asyncio.ensure_future(scope.context(conn, customer_id, category, text, language))
        record = current_turn()
        spent_before = record.cost(self.prices) if record else 0.0
        failure: BaseException | None = None
        try:
            async with self.connections.lease(config.servers, token) as leased:
                tools = TurnTools(leased, {tool: config.server_of(tool) for tool in config.tool_names})
                reply = await self.brain_for(category, memory).handle(BrainInput(
                    category=category, config=config, text=text, language=language, customer_id=customer_id,
                    tools=tools, attachments=request.attachments, button_value=request.button_value,
                    memory=memory, recollection=recollection))
        except self._errors as exc:
            failure = exc
        finally:
            await asyncio.wait([recollection])  # done before the connection is used again, whatever the brain did
        _, lessons = await recollection  # a failed read fails the turn, as it did when it came first
        if failure is not None:
            log.warning("turn failed in %s: %s", category.value, type(failure).__name__)
            return BrainReply(say("trouble", language), gave_up=f"dependency_failed:{type(failure).__name__}")
        reply.cost_usd = round(record.cost(self.prices) - spent_before, 6) if record else 0.0  # this brain's share
        if lessons and reply.model is None and reply.proposal is None and not reply.gave_up:
            # The offline playbooks cannot read a lesson; they can send what staff sent for the very same draft.
            personal = await learnings_store.personal_data(conn, customer_id) if customer_id is not None else {}
            corrected = learning.rewrite(reply.text, lessons, personal)
            if corrected is not None:
                reply.text = corrected
        memory.update(reply.remember)
        state["buttons_from"] = category.value if reply.buttons else None
        if reply.awaiting:
            asked = {"category": category.value, "slot": reply.awaiting}
            again = scope.answered is not None and all(scope.answered.get(k) == v for k, v in asked.items())
            if again and lexicon.withdraws(text):
                # No usable answer, and "never mind" instead: the request is dropped, as a "no" drops a proposal.
                for key in ("awaiting", "deferred", "next"):
                    state.pop(key, None)
                return BrainReply(say("declined", language))
            times = int(scope.answered.get("times", 1)) + 1 if scope.answered and again else 1
            state["awaiting"] = {**asked, "times": times}
            if times > ASKS_BEFORE_A_PERSON and not reply.gave_up:
                # The answers did not fit the question: a person reads the conversation instead of a loop.
                state.pop("awaiting")
                reply = BrainReply(say("holding", language), gave_up="question_not_understood")
        if reply.proposal is not None and customer_id is not None:
            scope.question = self._question(conversation_id, scope.message_id, customer_id, reply.proposal,
                                            request.conversation_id)
            reply.buttons = _yes_no(language, scope.message_id)
        return reply

    def _question(self, conversation_id: int, message_id: int, customer_id: int, proposal: Proposal,
                  conversation: str) -> store.NewPendingAction:
        config = self.categories[proposal.category]
        return store.NewPendingAction(
            conversation_id=conversation_id, asked_in=message_id, customer_id=customer_id,
            category=proposal.category.value, server=config.server_of(proposal.tool).value, tool=proposal.tool,
            arguments=proposal.arguments, summary=proposal.summary,
            sealed_token=self._sealer.seal(proposal.confirmation_token, conversation), expires_at=proposal.expires_at)

    @staticmethod
    def _answer_to(button_key: int, request: TurnRequest, text: str) -> str:
        """'yes' only for this question's yes button or a plain yes; 'no' for its no; else 'other'."""
        if request.button_value == f"confirm:{button_key}":
            return "yes"
        if request.button_value == f"decline:{button_key}":
            return "no"
        if request.button_value is None and text and lexicon.is_yes(text):
            return "yes"
        if text and lexicon.is_no(text):
            return "no"
        return "other"

    async def _confirmed(self, conn: psycopg.AsyncConnection, conversation_id: int,
                         pending: store.PendingActionRow, state: dict[str, Any], request: TurnRequest,
                         scope: TurnScope) -> TurnOutcome:
        """The customer said yes: call the tool again with the token, exactly as the server bound it."""
        category = Category(pending.category)
        language = state.get("language", "en")
        routing = _known_routing(category, language)
        token = self._token_for(category, pending.customer_id, request.conversation_id)
        arguments = {**pending.arguments,
                     "confirmation_token": self._sealer.open(pending.sealed_token, request.conversation_id)}
        try:
            async with self.connections.lease([McpServer(pending.server)], token) as leased:
                done = await TurnTools(leased, {pending.tool: McpServer(pending.server)}).call(pending.tool,
                                                                                               **arguments)
        except self._errors as exc:
            log.warning("confirmed %s failed: %s", pending.tool, type(exc).__name__)
            # Left pending: the same yes can be sent again once the server is back, and executes once.
            return TurnOutcome(category, routing, BrainReply(say("trouble", language),
                                                             gave_up=f"dependency_failed:{type(exc).__name__}"))
        if not done.executed:
            await store.resolve_pending_action(conn, pending.id, "failed")
            reason = done.error.message if done.error else "the action did not complete"
            return TurnOutcome(category, routing, BrainReply(say("not_allowed", language, reason=reason)),
                               action_failed=True)
        await store.resolve_pending_action(conn, pending.id, "confirmed")
        if pending.tool == "create_damage_claim":
            claim = done.data["result"]["id"]
            state.setdefault("memory", {}).setdefault(category.value, {})["claim_id"] = claim
            state["awaiting"] = {"category": category.value, "slot": "photos"}
            reply = BrainReply(say("done", language, summary=done.data["summary"].rstrip(".")) + " "
                               + say("ask_photos", language, claim=claim), awaiting="photos")
        else:
            reply = BrainReply(say("done", language, summary=done.data["summary"].rstrip(".")))
        taken = [ActionTaken(tool=pending.tool, summary=done.data["summary"], audit_id=done.data.get("audit_id"))]
        following = state.pop("next", None)
        if following:
            second = await self._think(conn, conversation_id, Category(following["category"]), following["text"],
                                       language, pending.customer_id, state, request, scope)
            reply = _joined(reply, second)
        return TurnOutcome(category, routing, reply, actions=taken)

    @telemetry.traced("gate", result=describe.gate)
    def _gate(self, outcome: TurnOutcome, request: TurnRequest, state: dict[str, Any], trace_id: str,
              cost: float = 0.0, *, identity_conflict: bool = False) -> TurnResponse:
        text = request.text or ""
        decision, reasons = decide(GateInput(
            policy=self.categories[outcome.category].gate, confidence=outcome.routing.confidence,
            urgency=outcome.routing.urgency, asked_for_human=lexicon.asks_for_human(text),
            identity_conflict=identity_conflict,
            failures_in_a_row=state.get("failures_in_a_row", 0) + (1 if outcome.reply.gave_up else 0),
            action_failed=outcome.action_failed, brain_gave_up=outcome.reply.gave_up,
            guard=outcome.guard.reasons))
        reply = outcome.reply
        text_out = reply.text
        buttons = reply.buttons
        if decision is Decision.ESCALATE and not reply.gave_up and not outcome.guard.tripped:
            text_out = say("holding", state.get("language", "en"))
            buttons = []
        if outcome.guard.tripped:
            buttons = []
        # Which models could not answer and who did: for staff and `levhaolam costs`, never for the customer.
        reasons += reply.fallbacks
        return TurnResponse(reply=text_out, buttons=buttons, actions_taken=outcome.actions + reply.actions_taken,
                            decision=decision, reasons=reasons, category=outcome.category,
                            secondary=outcome.routing.secondary, trace_id=trace_id, cost=cost)

    async def _check_reply(self, conn: psycopg.AsyncConnection, conversation_id: int, outcome: TurnOutcome,
                           request: TurnRequest, state: dict[str, Any], customer_id: int | None, record: TurnRecord,
                           scope: TurnScope) -> TurnOutcome:
        """The output guard on the reply about to go out; a trip holds it back (kept for staff) and escalates."""
        if outcome.guard.tripped or not outcome.reply.text.strip():
            return outcome
        actions = outcome.actions + outcome.reply.actions_taken
        executed = await store.audited(conn, [a.audit_id for a in actions if a.audit_id is not None])
        memory = await scope.customer_memory(conn, customer_id)
        emails = {str(e) for e in (request.contact.email, outcome.routing.email) if e}
        verdict = await self.guard.check_output(ReplyFacts(
            text=outcome.reply.text, language=state.get("language", "en"), category=outcome.category.value,
            model_written=outcome.reply.free_text, evidence=record.evidence, customer_text=request.text or "",
            customer_emails=emails, actions_executed=executed,
            offers_made=memory.offers_made_before(conversation_id), tool_names=self._tool_names))
        if not verdict.tripped:
            return outcome
        log.warning("output guard: %s (%s)", ",".join(verdict.reasons), verdict.detail[:200])
        scope.question = None  # a question the customer never sees cannot be answered with a yes
        held = BrainReply(say("holding", state.get("language", "en")), model=outcome.reply.model,
                          fallbacks=outcome.reply.fallbacks)
        return replace(outcome, reply=held, guard=verdict, blocked_reply=outcome.reply.text)


def _forget(unfinished: set[asyncio.Task[ToolOutcome]]) -> Callable[[asyncio.Task[ToolOutcome]], None]:
    def done(task: asyncio.Task[ToolOutcome]) -> None:
        unfinished.discard(task)
        _ = task.cancelled() or task.exception()  # retrieved, so asyncio does not log it as never retrieved

    return done


def _guard_json(outcome: TurnOutcome) -> dict[str, Any] | None:
    if not outcome.guard.tripped:
        return None
    return {"stage": "output" if outcome.blocked_reply is not None else "input", "reasons": list(outcome.guard.reasons),
            "detail": outcome.guard.detail[:1000], "by": outcome.guard.by, "blocked_reply": outcome.blocked_reply}


_PROBLEM_TOOLS = {"create_damage_claim", "report_missing_package"}


def _turn_facts(outcome: TurnOutcome, response: TurnResponse, request: TurnRequest, state: dict[str, Any],
                customer_id: int, conversation_id: int, today: date) -> TurnFacts:
    """What this turn leaves in the customer's memory."""
    reply = outcome.reply
    problem_summary = next((a.summary for a in response.actions_taken if a.tool in _PROBLEM_TOOLS), None)
    if problem_summary is None and reply.proposal is not None and reply.proposal.tool in _PROBLEM_TOOLS:
        problem_summary = reply.proposal.summary
    text = request.text or ""
    if problem_summary is None and outcome.category.value == "payment_issue" and len(text) >= 20:
        problem_summary = text
    return TurnFacts(customer_id=customer_id, conversation_id=conversation_id, category=outcome.category,
                     language=state.get("language", "en"), channel=request.channel.value,
                     text=text if state.get("language_from_text") else "", today=today,
                     actions=response.actions_taken, offers=[] if outcome.guard.tripped else reply.offers_made,
                     problem_summary=problem_summary)


def _body_of(request: TurnRequest) -> str:
    if request.text:
        return request.text
    if request.button_value:
        return f"[button] {request.button_value}"
    return "[attachments] " + " ".join(str(a.url) for a in request.attachments)


def _yes_no(language: str, button_key: int) -> list[Button]:
    """The buttons answering the question asked in reply to message `button_key`."""
    return [Button(title=say("yes", language), value=f"confirm:{button_key}"),
            Button(title=say("no", language), value=f"decline:{button_key}")]


def _answers(awaiting: dict[str, Any], text: str) -> bool:
    """Whether the message holds what we asked for, however long or however the router reads the rest of it."""
    read = {"months": lexicon.months_in, "frequency": lexicon.frequency_in, "address": lexicon.address_in}.get(
        awaiting.get("slot", ""))
    return read is not None and read(text) is not None


def _moves_on(routed: RouterOutput, awaited: Category) -> bool:
    """An answer to our question that the router firmly reads as another request ("where is my box?")."""
    return routed.primary not in (awaited, Category.OTHER) and routed.confidence >= MOVE_ON_CONFIDENCE


def _same_address(first: str, second: str) -> bool:
    return first.strip().casefold() == second.strip().casefold()


def _known_routing(category: Category, language: str, routed: RouterOutput | None = None) -> RouterOutput:
    """Routing decided by the conversation (an answer to our question), not by the classifier."""
    return RouterOutput(primary=category, secondary=None, urgency=routed.urgency if routed else Urgency.MEDIUM,
                        email=routed.email if routed else None, language=language, confidence=1.0)


def _category_or_none(value: str | None, primary: Category) -> Category | None:
    return Category(value) if value and value != primary.value else None


def _joined(first: BrainReply, second: BrainReply) -> BrainReply:
    return BrainReply(text=f"{first.text}\n\n{second.text}".strip(), buttons=second.buttons or first.buttons,
                      proposal=second.proposal or first.proposal, gave_up=first.gave_up or second.gave_up,
                      awaiting=second.awaiting or first.awaiting, remember={**first.remember, **second.remember},
                      actions_taken=first.actions_taken + second.actions_taken, model=first.model or second.model,
                      free_text=first.free_text or second.free_text, offers_made=first.offers_made + second.offers_made,
                      fallbacks=first.fallbacks + second.fallbacks, cost_usd=first.cost_usd + second.cost_usd)
