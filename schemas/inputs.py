"""Boundary types for what callers send: text that can be stored and shown, dates a box can have.

A NUL byte cannot be stored in a PostgreSQL text column, other control characters rewrite what a person
or a model reads (terminal escapes, backspaces), and a lone surrogate cannot be encoded at all; dates in
year 1 or 9999 overflow the date arithmetic. Rejecting them here gives the caller a typed
`invalid_argument` that names the field instead of a generic failure deep inside a tool.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

# C0 controls except tab, newline and carriage return (which real messages and addresses contain),
# and UTF-16 surrogates, which only a broken encoder produces and UTF-8 cannot represent.
UNSAFE_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def unsafe_character(text: str) -> str | None:
    """A description of the first character `text` may not contain (e.g. 'U+0000 at position 3'), or None."""
    found = UNSAFE_CHARACTER.search(text)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X} at position {found.start()}"


def unsafe_text_message(where: str) -> str:
    return (f"contains a control character ({where}); send plain text (tab, newline and carriage return are "
            "allowed) and remove the character")


def _no_control_characters(value: str | None) -> str | None:
    where = unsafe_character(value) if value is not None else None
    if where is not None:
        raise ValueError(unsafe_text_message(where))
    return value


def _plausible_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}; "
                         f"{value.isoformat()} cannot be a box or shipping date. Check the year with the customer")
    return value


# For every free-text argument (what a customer wrote or an agent passes on), placed after the field's own
# constraints so that pydantic still checks those first and publishes them in the input schema:
# `Annotated[str | None, Field(max_length=500, description=...), NoControlCharacters]`.
NoControlCharacters = AfterValidator(_no_control_characters)
# The range is for the caller to read in the field's description: an AfterValidator does not show in a schema.
PlausibleDate = Annotated[date, AfterValidator(_plausible_date)]
