"""Stand-ins for the bridge's two neighbours, served over real HTTP in tests:

- `StandInChatwoot`: the REST calls an agent bot makes, each recorded and validated against the subset of Chatwoot's
  OpenAPI document in tests/fixtures/ (a request that breaks it is answered 422 and recorded as a violation). Like
  Chatwoot it echoes the bot's own messages back to the bot's webhook, signed.
- `StandInOrchestrator`: POST /v1/turns with the service token, answering from a script, replaying the stored answer
  of a retried message id as the real one does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.webhook import sign
from schemas.turns import TurnRequest, TurnResponse
from tests.bridge.payloads import echo_payload
from tests.helpers import ROOT

SPEC = json.loads((ROOT / "tests" / "fixtures" / "chatwoot_swagger_subset.json").read_text())
BOT_TOKEN = "bot-token-" + "k" * 20
SERVICE_TOKEN = "service-token-" + "s" * 40
ACCOUNT = 1


def _resolve(node: Any) -> Any:
    """Inline `#/components/...` references, and refuse undeclared properties (Chatwoot would silently drop them)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = SPEC
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target)
        resolved = {key: _resolve(value) for key, value in node.items()}
        if resolved.get("type") == "object" and "properties" in resolved:
            resolved.setdefault("additionalProperties", False)
        return resolved
    if isinstance(node, list):
        return [_resolve(item) for item in node]
    return node


def _operations() -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    found = []
    for template, item in SPEC["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[a-z_]+\}", r"(\\d+)", template) + "$")
        for method, operation in item.items():
            if method != "parameters":
                found.append((method.upper(), pattern, operation))
    return found


OPERATIONS = _operations()


def validate_request(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, list[str]]:
    """The operation id and the ways the request breaks the document (empty: valid)."""
    for op_method, pattern, operation in OPERATIONS:
        if op_method == method and pattern.match(path):
            problems: list[str] = []
            if not headers.get("api_access_token"):
                problems.append("no api_access_token header (securitySchemes.agentBotApiKey)")
            if {"agentBotApiKey": []} not in operation["security"]:
                problems.append(f"{operation['operationId']} does not list agentBotApiKey")
            schema_spec = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if schema_spec is not None:
                if headers.get("content-type", "").split(";")[0] != "application/json":
                    problems.append("the body is not application/json")
                try:
                    payload = json.loads(body)
                except ValueError:
                    return operation["operationId"], problems + ["the body is not JSON"]
                validator = jsonschema.Draft202012Validator(_resolve(schema_spec["schema"]))
                problems += [f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}"
                             for e in validator.iter_errors(payload)]
            elif body:
                problems.append("a body where the operation takes none")
            return operation["operationId"], problems
    return "unknown", [f"{method} {path} is not an operation of Chatwoot's API (subset)"]


@dataclass
class Call:
    operation: str
    conversation: int
    body: dict[str, Any]
    status: int


@dataclass
class StandInChatwoot:
    """Conversations start `pending` (the bot's) unless `statuses` says otherwise."""

    webhook_url: str | None = None  # where the echoes go (the bridge's webhook)
    webhook_secret: str | None = None
    statuses: dict[int, str] = field(default_factory=dict)
    bots_may_read: bool = True  # False: an older Chatwoot (bots get 401 on GET conversation and typing)
    down: bool = False  # answer 503 to everything
    fail_next: list[int] = field(default_factory=list)  # statuses to answer the next calls with
    echo: bool = True
    hold_posts: asyncio.Event | None = None  # set: posts land, then wait for this before answering
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9000))
    _echoes: set[asyncio.Task[None]] = field(default_factory=set)

    # -------------------------------------------------------------------------------- what the tests read
    def messages(self, conversation: int | None = None, *, private: bool | None = None) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.operation == "create-a-new-message-in-a-conversation"
                and c.status == 200 and (conversation is None or c.conversation == conversation)
                and (private is None or bool(c.body.get("private")) == private)]

    def ops(self, operation: str, conversation: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.operation == operation and c.status == 200
                and (conversation is None or c.conversation == conversation)]

    async def drain(self) -> None:
        if self._echoes:
            await asyncio.gather(*self._echoes, return_exceptions=True)

    # -------------------------------------------------------------------------------- the app
    def app(self) -> Starlette:
        async def handle(request: Request) -> Response:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            operation, problems = validate_request(request.method, request.url.path, headers, body)
            conversation = int(request.path_params.get("conversation", 0))
            payload = json.loads(body) if body else {}
            if problems:
                self.violations += [f"{operation}: {p}" for p in problems]
                self.calls.append(Call(operation, conversation, payload, 422))
                return JSONResponse({"errors": problems}, status_code=422)
            if headers["api_access_token"] != BOT_TOKEN:
                self.calls.append(Call(operation, conversation, payload, 401))
                return JSONResponse({"error": "Invalid Access Token"}, status_code=401)
            status = 503 if self.down else (self.fail_next.pop(0) if self.fail_next else 200)
            if status == 200 and not self.bots_may_read and operation in (
                    "get-details-of-a-conversation", "toggle-typing-status-of-a-conversation"):
                status = 401
            self.calls.append(Call(operation, conversation, payload, status))
            if status != 200:
                return JSONResponse({"error": "Access to this endpoint is not authorized for bots"
                                     if status == 401 else "unavailable"}, status_code=status)
            current = self.statuses.setdefault(conversation, "pending")
            if operation == "get-details-of-a-conversation":
                return JSONResponse({"id": conversation, "status": current})
            if operation == "toggle-status-of-a-conversation":
                self.statuses[conversation] = payload["status"]
                return JSONResponse({"meta": {}, "payload": {"success": True, "current_status": payload["status"],
                                                             "conversation_id": conversation}})
            if operation == "create-a-new-message-in-a-conversation":
                message_id = next(self._ids)
                if self.echo and self.webhook_url:
                    task = asyncio.create_task(self._send_echo(conversation, message_id, payload))
                    self._echoes.add(task)
                    task.add_done_callback(self._echoes.discard)
                if self.hold_posts is not None:
                    await self.hold_posts.wait()
                return JSONResponse({"id": message_id, "content": payload["content"]})
            return JSONResponse({})

        path = "/api/v1/accounts/{account:int}/conversations/{conversation:int}"
        return Starlette(routes=[
            Route(path, handle, methods=["GET"]),
            Route(path + "/messages", handle, methods=["POST"]),
            Route(path + "/toggle_status", handle, methods=["POST"]),
            Route(path + "/toggle_typing_status", handle, methods=["POST"]),
            Route(path + "/assignments", handle, methods=["POST"]),
            Route("/api/v1/{rest:path}", handle, methods=["GET", "POST", "PATCH", "DELETE"]),
        ])

    async def _send_echo(self, conversation: int, message_id: int, posted: dict[str, Any]) -> None:
        """Chatwoot tells the bot about its own new message (message_created, outgoing, sender agent_bot)."""
        await asyncio.sleep(0.02)  # Chatwoot sends webhooks from a background job, after answering the post
        body = json.dumps(echo_payload(conversation, message_id, posted["content"], bool(posted.get("private")),
                                       self.statuses.get(conversation, "pending"))).encode()
        headers = {"Content-Type": "application/json", "X-Chatwoot-Delivery": f"echo-{message_id}"}
        if self.webhook_secret:
            timestamp = str(int(time.time()))
            headers |= {"X-Chatwoot-Timestamp": timestamp,
                        "X-Chatwoot-Signature": sign(self.webhook_secret, timestamp, body)}
        assert self.webhook_url is not None
        async with httpx.AsyncClient(timeout=5) as client:
            try:
                await client.post(self.webhook_url, content=body, headers=headers)
            except httpx.HTTPError:
                pass  # the bridge is down: Chatwoot would retry; tests that need the echo keep the bridge up


Script = Callable[[TurnRequest], dict[str, Any]]


def auto_send(reply: str = "Hello! How can I help?", **extra: Any) -> Script:
    def answer(request: TurnRequest) -> dict[str, Any]:
        return {"reply": reply, "decision": "auto_send", "category": "other", "trace_id": f"t-{request.message_id}",
                "reasons": ["category_policy:auto_send"]} | extra

    return answer


@dataclass
class StandInOrchestrator:
    script: Script = field(default_factory=auto_send)
    down: bool = False
    hold: asyncio.Event | None = None  # set: each turn waits for this before answering
    requests: list[TurnRequest] = field(default_factory=list)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        async def turns(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {SERVICE_TOKEN}":
                return JSONResponse({"code": "forbidden", "message": "send the service token"}, status_code=401)
            if self.down:
                return JSONResponse({"code": "unavailable", "message": "the conversation store is unavailable"},
                                    status_code=503)
            turn = TurnRequest.model_validate_json(await request.body())
            self.requests.append(turn)
            self.entered.set()
            if self.hold is not None:
                await self.hold.wait()
            if turn.message_id in self.answered:
                return JSONResponse(self.answered[turn.message_id] | {"replayed": True})
            answer = json.loads(TurnResponse.model_validate(self.script(turn)).model_dump_json())
            self.answered[turn.message_id] = answer
            return JSONResponse(answer)

        return Starlette(routes=[Route("/v1/turns", turns, methods=["POST"])])


