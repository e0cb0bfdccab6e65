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


@pytest.mark.parametrize("text", ["yes", "Yes please", "yes, go ahead!", "ok, do it", "да, давайте", "sí, claro",
                                  "כן, קדימה"])
def test_a_few_yeses_together_are_a_yes(text: str) -> None:
    assert lexicon.is_yes(text)


@pytest.mark.parametrize("text", ["yes but from March", "yes. no", "yesterday", "sure thing, but not now", ""])
def test_a_yes_with_anything_else_in_it_is_not(text: str) -> None:
    assert not lexicon.is_yes(text)


@pytest.mark.parametrize(("text", "line1", "city", "postal", "country"), [
    ("Hauptstrasse 5, Berlin, 10115, Germany", "Hauptstrasse 5", "Berlin", "10115", "DE"),
    ("I'd like to change my address to Hauptstrasse 5, Berlin, 10115, Germany", "Hauptstrasse 5", "Berlin", "10115",
     "DE"),
    ("My new address is 12 Rue de Rivoli, Paris, 75001, France", "12 Rue de Rivoli", "Paris", "75001", "FR"),
    ("12 rue de Rivoli, 75001 Paris, France", "12 rue de Rivoli", "Paris", "75001", "FR"),
    ("221B Baker Street, London NW1 6XE, United Kingdom", "221B Baker Street", "London", "NW1 6XE", "GB"),
    ("Hauptstrasse 5\n10115 Berlin\nGermany", "Hauptstrasse 5", "Berlin", "10115", "DE"),
    ("Mariahilfer Str. 10, Wien 1070, Österreich", "Mariahilfer Str. 10", "Wien", "1070", "AT"),
    ("12 Herzl St, Tel Aviv 6100000, Israel", "12 Herzl St", "Tel Aviv", "6100000", "IL"),
    ("not the old place any more, new one: Hauptstrasse 5, Berlin, 10115, Germany", "Hauptstrasse 5", "Berlin",
     "10115", "DE"),
    ("Hauptstrasse 5, Berlin, 10115, Germany - the old one is gone", "Hauptstrasse 5", "Berlin", "10115", "DE"),
])
def test_an_address_as_people_write_it(text: str, line1: str, city: str, postal: str, country: str) -> None:
    assert lexicon.address_in(text) == {"line1": line1, "city": city, "postal_code": postal, "country_code": country}


@pytest.mark.parametrize("text", ["where is my box?", "2", "hmm, my place", "I moved, please update my address",
                                  "Berlin, Germany"])
def test_no_address_is_read_where_there_is_none(text: str) -> None:
    assert lexicon.address_in(text) is None
