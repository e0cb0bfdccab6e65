"""Short answers typed instead of pressed: a customer on a channel without buttons types what the button says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from orchestrator import lexicon

REPLIES = tomllib.loads((Path(__file__).parents[2] / "orchestrator" / "replies.toml").read_text())


@pytest.mark.parametrize("language", sorted(REPLIES))
def test_the_buttons_own_titles_typed_are_a_yes_and_a_no(language: str) -> None:
    phrases = REPLIES[language]
    assert lexicon.is_yes(phrases["yes"]) and not lexicon.is_no(phrases["yes"])
    assert lexicon.is_no(phrases["no"]) and not lexicon.is_yes(phrases["no"])


@pytest.mark.parametrize("text", ["yes", "Yes please", "yes, go ahead!", "ok, do it", "да, давайте", "sí, claro"])
def test_a_few_yeses_together_are_a_yes(text: str) -> None:
    assert lexicon.is_yes(text)


@pytest.mark.parametrize("text", ["yes but from March", "yes. no", "yesterday", "sure thing, but not now", ""])
def test_a_yes_with_anything_else_in_it_is_not(text: str) -> None:
    assert not lexicon.is_yes(text)
