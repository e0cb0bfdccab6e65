"""Webhook signatures over HTTP: Chatwoot signs "{X-Chatwoot-Timestamp}.{raw body}" with HMAC-SHA256."""

from __future__ import annotations

import json
import time

import pytest

from bridge.webhook import MAX_SKEW_S, sign
from schemas.services import WEBHOOK_PATH
from tests.bridge import payloads
from tests.bridge.conftest import SECRET, Rig

BODY = json.dumps(payloads.incoming("Hello", conversation=400, message_id=4000)).encode()


def headers(body: bytes = BODY, *, secret: str = SECRET, timestamp: int | None = None, **drop: bool) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    found = {"Content-Type": "application/json", "X-Chatwoot-Delivery": "d-400", "X-Chatwoot-Timestamp": stamp,
             "X-Chatwoot-Signature": sign(secret, stamp, body)}
    return {k: v for k, v in found.items() if not drop.get(k.replace("-", "_").lower())}


async def test_a_valid_signature_is_accepted(rig: Rig) -> None:
    answer = await rig.http.post(rig.bridge_url + WEBHOOK_PATH, content=BODY, headers=headers())
    assert answer.status_code == 200 and answer.json()["status"] == "queued"


def test_the_signature_is_sha256_hmac_of_timestamp_dot_body() -> None:
    # Worked by hand: printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
    assert sign("secret", "1700000000", b'{"a":1}') == (
        "sha256=" + __import__("hmac").new(b"secret", b'1700000000.{"a":1}', "sha256").hexdigest())


@pytest.mark.parametrize(("case", "make", "field", "message"), [
    ("wrong secret", lambda: headers(secret="another-secret-entirely-xxxxxxxx"), "X-Chatwoot-Signature",
     "the signature does not match the body"),
    ("stale timestamp", lambda: headers(timestamp=int(time.time()) - MAX_SKEW_S - 5), "X-Chatwoot-Timestamp",
     f"the timestamp is more than {MAX_SKEW_S} s from now (a replay, or a clock out of step)"),
    ("future timestamp", lambda: headers(timestamp=int(time.time()) + MAX_SKEW_S + 5), "X-Chatwoot-Timestamp",
     f"the timestamp is more than {MAX_SKEW_S} s from now (a replay, or a clock out of step)"),
    ("no signature", lambda: headers(x_chatwoot_signature=True), "X-Chatwoot-Signature", "the webhook is not signed"),
    ("no timestamp", lambda: headers(x_chatwoot_timestamp=True), "X-Chatwoot-Timestamp",
     "the webhook has no timestamp"),
    ("no headers", lambda: headers(x_chatwoot_signature=True, x_chatwoot_timestamp=True), "X-Chatwoot-Signature",
     "the webhook is not signed"),
    ("timestamp not a number", lambda: {**headers(), "X-Chatwoot-Timestamp": "yesterday"}, "X-Chatwoot-Timestamp",
     "the timestamp is not a Unix time"),
    ("signature of another timestamp", lambda: {**headers(), "X-Chatwoot-Timestamp": str(int(time.time()) - 1)},
     "X-Chatwoot-Signature", "the signature does not match the body"),
])
async def test_bad_signatures_are_refused_with_401(rig: Rig, case: str, make, field: str,  # type: ignore[no-untyped-def]
                                                   message: str) -> None:
    answer = await rig.http.post(rig.bridge_url + WEBHOOK_PATH, content=BODY, headers=make())
    assert answer.status_code == 401, case
    assert answer.json() == {"code": "forbidden", "field": field, "message": message}
    assert await rig.states() == {}  # nothing stored


@pytest.mark.parametrize("position", [0, len(BODY) // 2, len(BODY) - 1])
async def test_a_body_altered_by_one_byte_is_refused(rig: Rig, position: int) -> None:
    signed = headers()
    altered = bytearray(BODY)
    altered[position] ^= 0x01
    answer = await rig.http.post(rig.bridge_url + WEBHOOK_PATH, content=bytes(altered), headers=signed)
    assert answer.status_code == 401 and answer.json()["message"] == "the signature does not match the body"
    assert await rig.states() == {}


async def test_an_oversized_body_is_refused_before_it_is_read_whole(rig: Rig) -> None:
    big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    answer = await rig.http.post(rig.bridge_url + WEBHOOK_PATH, content=big, headers=headers(big))
    assert answer.status_code == 413 and answer.json()["code"] == "invalid_argument"


async def test_a_signed_body_that_is_not_a_webhook_is_a_typed_400(rig: Rig) -> None:
    body = b'{"hello": "world"}'
    answer = await rig.http.post(rig.bridge_url + WEBHOOK_PATH, content=body, headers=headers(body))
    assert answer.status_code == 400
    assert answer.json() == {"code": "invalid_argument", "field": "event", "message": 'the body has no "event"'}
