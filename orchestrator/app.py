"""The orchestrator's HTTP API (Starlette), behind a service token: POST /v1/turns (a customer's message in, the reply
out), POST /v1/corrections (a person edited an AI draft before sending it: a lesson for the category); GET /healthz."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestrator.learning import CorrectionRefused, record_correction
from orchestrator.pipeline import Pipeline
from orchestrator.replies import say
from schemas.corrections import CORRECTIONS_PATH, CorrectionRequest
from schemas.errors import ErrorCode, ToolErrorInfo
from schemas.services import TURNS_PATH
from schemas.turns import TurnRequest

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def _error(status: int, code: ErrorCode, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    body = ToolErrorInfo(code=code, field=field, message=message).model_dump(exclude_none=True) | extra
    return JSONResponse(body, status_code=status)


def create_app(pipeline_context: Callable[[], contextlib.AbstractAsyncContextManager[Pipeline]],
               service_token: str) -> Starlette:
    """`pipeline_context` opens the pipeline (pools, MCP connections) for the app's lifetime."""
    pipeline: Pipeline | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pipeline
        async with pipeline_context() as running:
            pipeline = running
            yield

    async def authorised_body(request: Request) -> bytes | Response:
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), service_token.encode()):
            return _error(401, ErrorCode.FORBIDDEN, "send the service token as 'Authorization: Bearer <token>'")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, ErrorCode.INVALID_ARGUMENT, f"the request is larger than {MAX_BODY_BYTES} bytes")
        return body

    def invalid(exc: ValidationError) -> Response:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        return _error(422, ErrorCode.INVALID_ARGUMENT, str(first["msg"]).removeprefix("Value error, "), field)

    async def turns(request: Request) -> Response:
        body = await authorised_body(request)
        if isinstance(body, Response):
            return body
        try:
            turn = TurnRequest.model_validate_json(body)
        except ValidationError as exc:
            return invalid(exc)
        assert pipeline is not None
        try:
            response = await pipeline.run(turn)
        except (psycopg.OperationalError, PoolTimeout):
            # Nothing was recorded: the caller retries the same message id later and gets one answer.
            return _error(503, ErrorCode.UNAVAILABLE, "the conversation store is unavailable; retry the same message "
                          "later", reply=say("holding", "en"))
        return JSONResponse(json.loads(response.model_dump_json()))

    async def corrections(request: Request) -> Response:
        body = await authorised_body(request)
        if isinstance(body, Response):
            return body
        try:
            correction = CorrectionRequest.model_validate_json(body)
        except ValidationError as exc:
            return invalid(exc)
        assert pipeline is not None
        try:
            async with pipeline.pool.connection() as conn:
                learned = await record_correction(conn, pipeline.categories, correction)
        except CorrectionRefused as exc:
            return _error(404, ErrorCode.NOT_FOUND, str(exc), exc.field)
        except (psycopg.OperationalError, PoolTimeout):
            return _error(503, ErrorCode.UNAVAILABLE, "the store is unavailable; post the correction again later")
        return JSONResponse(learned.model_dump(mode="json"))

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok" if pipeline is not None else "starting"})

    return Starlette(routes=[Route(TURNS_PATH, turns, methods=["POST"]),
                             Route(CORRECTIONS_PATH, corrections, methods=["POST"]), Route("/healthz", healthz)],
                     lifespan=lifespan)
