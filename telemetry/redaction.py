"""Personal data out of traces: tool arguments and message text are scrubbed before they become span attributes.

Traces leave the platform (Langfuse, any OTLP backend) and are kept for months, so they carry what is needed to
debug a turn (which tool, which subscription id, how many months) but not who the customer is. Ids stay: they are
pseudonymous and only resolve inside our database. Names, e-mail addresses, phone numbers, postal addresses,
photo links and confirmation tokens never reach an attribute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Arguments whose whole value identifies a person or grants something: replaced, never scrubbed piecemeal.
PERSONAL_KEYS = frozenset({
    "email", "phone", "name", "first_name", "last_name", "full_name", "contact", "address", "line1", "line2",
    "street", "city", "postal_code", "postcode", "zip", "region", "state", "recipient", "chatwoot_contact_id",
    "url", "photo_url", "image_url", "card", "card_number", "iban",
})
SECRET_MARKERS = ("token", "secret", "password", "key")
MAX_ATTRIBUTE_CHARS = 4000

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_URL = re.compile(r"https?://\S+")
# A phone number: optional +, then 7+ digits with spaces, dots, dashes or brackets between them.
_PHONE = re.compile(r"(?<![\w#])\+?\d[\d ().-]{6,}\d(?!\w)")
# Card-like or other long digit runs that are not an order or tracking number the customer quoted.
_LONG_NUMBER = re.compile(r"\b\d{12,19}\b")
_DATE_OR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    # Dates look like phone numbers to the pattern; a box month must stay readable.
    if _DATE_OR_TIME.fullmatch(found.strip()) or sum(c.isdigit() for c in found) < 8:
        return found
    return "[PHONE]"


def redact_text(text: str) -> str:
    """Free text (a customer's message, a reply, a search query) with contact details replaced by placeholders."""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _URL.sub("[URL]", text)
    text = _LONG_NUMBER.sub("[NUMBER]", text)
    text = _PHONE.sub(_phone, text)
    return text[:MAX_ATTRIBUTE_CHARS]


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def redact_value(value: Any, key: str = "") -> Any:
    lowered = key.lower()
    if lowered in PERSONAL_KEYS:
        return "[REDACTED]" if value not in (None, "") else value
    if _is_secret(lowered):
        return "[SECRET]" if value not in (None, "") else value
    if isinstance(value, Mapping):
        return {str(k): redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, key) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_arguments(arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """A tool call's arguments as they may appear in a trace."""
    return {str(k): redact_value(v, str(k)) for k, v in (arguments or {}).items()}


def redacted_json(value: Any) -> str:
    """JSON of redacted data, capped: span attributes are strings and backends truncate long ones anyway."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return redact_text(value)
    text = json.dumps(redact_value(value), ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= MAX_ATTRIBUTE_CHARS else text[:MAX_ATTRIBUTE_CHARS - 1] + "…"
