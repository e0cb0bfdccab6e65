"""The offline brain's phrases, in the customer's language where we have it, English otherwise."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

REPLIES_PATH = Path(__file__).with_name("replies.toml")
FALLBACK = "en"


@cache
def phrasebook() -> dict[str, dict[str, str]]:
    return tomllib.loads(REPLIES_PATH.read_text(encoding="utf-8"))


def say(key: str, language: str, **values: Any) -> str:
    book = phrasebook()
    template = book.get(language, {}).get(key) or book[FALLBACK][key]
    return template.format(**values)
