"""The bridge's HTTP app (Starlette): Chatwoot's webhook in, the local chat page, a health check. Routes only.

POST /chatwoot/webhook  verify, parse, store a job (or nothing), answer 200 in milliseconds: workers do the rest.
GET  /                  the local chat page (plain HTML + JS), when enabled.
POST /chat/turns        the chat page's messages: through the orchestrator, answered with the Chatwoot actions that
                        the same message would cause (replies, buttons, notes, hand-off).
GET  /healthz
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bridge import dispatch
from bridge.dispatch import Handoff
from bridge.turns_client import TurnFailed, TurnsApi
from bridge.webhook import WebhookRefused, interpret, parse, verify
from schemas.errors import ErrorCode, ToolErrorInfo
from schemas.http_body import capped_body
from schemas.services import WEBHOOK_PATH
from schemas.turns import ConversationRef, MessageRef, TurnRequest
from store import bridge_jobs as jobs

MAX_BODY_BYTES = 1024 * 1024  # real payloads are a few KiB; a conversation with long messages stays far below this
DB_WAIT_S = 2.0  # Chatwoot gives up on a webhook after 5 s (and then opens the conversation for people)
CHAT_PAGE = Path(__file__).with_name("chat_page.html")


@dataclass(frozen=True)
class BridgeConfig:
    webhook_secret: str | None = None
    account_id: int | None = None  # CHATWOOT_ACCOUNT_ID: conversation events carry none of their own
    handoff: Handoff = field(default_factory=Handoff)
    chat_page: bool = True
    clock: Callable[[], float] = time.time


class ChatTurn(BaseModel):
    """What the chat page sends: one message or button press of its customer."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: ConversationRef
    message_id: MessageRef
    text: str | None = Field(default=None, max_length=4000)
    button_value: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)


def _error(status: int, code: ErrorCode, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(ToolErrorInfo(code=code, field=field, message=message).model_dump(exclude_none=True),
                        status_code=status)


def _invalid(exc: ValidationError) -> JSONResponse:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return _error(422, ErrorCode.INVALID_ARGUMENT, str(first["msg"]).removeprefix("Value error, "), field)


async def _body(request: Request) -> bytes:
    body = await capped_body(request.stream(), request.headers.get("content-length"), MAX_BODY_BYTES)
    if body is None:
        raise WebhookRefused(413, ErrorCode.INVALID_ARGUMENT, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return body


def create_app(config: BridgeConfig,
               open_pool: Callable[[], AbstractAsyncContextManager[AsyncConnectionPool]],
               open_turns: Callable[[], AbstractAsyncContextManager[TurnsApi]] | None = None) -> Starlette:
    """`open_pool` gives the database pool for the app's lifetime; `open_turns` the orchestrator client that the
    chat page needs (without it the page is off)."""
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            state["pool"] = await stack.enter_async_context(open_pool())
            if open_turns is not None and config.chat_page:
                state["turns"] = await stack.enter_async_context(open_turns())
            yield

    async def webhook(request: Request) -> Response:
        try:
            body = await _body(request)
            if config.webhook_secret is not None:
                verify(config.webhook_secret, request.headers, body, config.clock())
            meaning = interpret(parse(body), config.account_id)
        except WebhookRefused as exc:
            return _error(exc.status, exc.code, exc.message, exc.field)
        delivery = request.headers.get("x-chatwoot-delivery") or None
        seen = meaning.seen
        inbound = meaning.inbound
        echo = meaning.echo
        try:
            async with state["pool"].connection(timeout=DB_WAIT_S) as conn:
                job_id = await jobs.accept(
                    conn,
                    seen=(seen.account_id, seen.conversation_id, seen.status) if seen else None,
                    job=(inbound.dedupe_key, delivery[:200] if delivery else None, inbound.account_id,
                         inbound.conversation_id, inbound.request.model_dump(mode="json")) if inbound else None,
                    echo=(echo.account_id, echo.conversation_id, echo.message_id, echo.fingerprint) if echo else None)
        except (psycopg.OperationalError, PoolTimeout):
            # Not stored, so not acknowledged: Chatwoot records the failure and (for a bot) opens the conversation
            # for people, so the customer is not left without an answer.
            return _error(503, ErrorCode.UNAVAILABLE, "the bridge's database is unavailable; the message was not taken")
        if inbound is None:
            return JSONResponse({"status": "ignored", "reason": meaning.ignored})
        if job_id is None:
            return JSONResponse({"status": "duplicate"})
        return JSONResponse({"status": "queued", "job": job_id})

    async def page(_: Request) -> Response:
        if "turns" not in state:
            return _error(404, ErrorCode.NOT_FOUND, "the chat page is off on this bridge")
        return HTMLResponse(CHAT_PAGE.read_text(encoding="utf-8"))

    async def chat_turn(request: Request) -> Response:
        if "turns" not in state:
            return _error(404, ErrorCode.NOT_FOUND, "the chat page is off on this bridge")
        try:
            sent = ChatTurn.model_validate_json(await _body(request))
            turn = TurnRequest.model_validate({
                "conversation_id": sent.conversation_id, "message_id": sent.message_id, "text": sent.text,
                "button_value": sent.button_value, "contact": {"email": sent.email or None}})
        except ValidationError as exc:
            return _invalid(exc)
        except WebhookRefused as exc:
            return _error(exc.status, exc.code, exc.message, exc.field)
        try:
            response = await state["turns"].turn(turn)
        except TurnFailed as exc:
            return _error(503 if exc.retryable else 502, ErrorCode.UNAVAILABLE, str(exc))
        said = dispatch.customer_text(turn.text, turn.button_value, 0)
        planned = dispatch.plan(response, said, config.handoff)
        return JSONResponse({"decision": response.decision.value, "category": response.category.value,
                             "reasons": response.reasons, "actions": planned.model_dump(mode="json")["actions"],
                             "handoff": planned.handoff})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok" if "pool" in state else "starting"})

    return Starlette(routes=[Route(WEBHOOK_PATH, webhook, methods=["POST"]), Route("/", page),
                             Route("/chat/turns", chat_turn, methods=["POST"]), Route("/healthz", healthz)],
                     lifespan=lifespan)
