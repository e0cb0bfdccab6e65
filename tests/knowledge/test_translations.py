"""The help center's translations say what the English files say: one source of truth for the facts.

A translation has the English file's `##` sections in the same order (so a passage maps back to its English
section by position) and the same numbers in each section (days, prices, percentages, limits): a translator may
reword, never add, drop or change a fact that has a number in it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from schemas.knowledge import AREA_NAMESPACES
from schemas.languages import LANGUAGES
from servers.knowledge.chunking import read_document
from tests.helpers import HELP_CENTER

TRANSLATIONS = [lang for lang in LANGUAGES if lang != "en"]


def sections(path: Path) -> list[tuple[str, str]]:
    namespace, chunks = read_document(path)
    assert namespace == path.stem, f"{path}: front matter namespace {namespace!r}"
    return [(c.title, c.content) for c in chunks]


def numbers(text: str) -> Counter[str]:
    # Digits only: "39.90" and "39,90", "5th" and "5." and "ה-5" all read the same.
    return Counter(re.findall(r"\d+", text))


@pytest.mark.parametrize("lang", TRANSLATIONS)
@pytest.mark.parametrize("namespace", AREA_NAMESPACES)
def test_translation_has_the_english_sections_and_numbers(lang: str, namespace: str) -> None:
    english = sections(HELP_CENTER / f"{namespace}.md")
    translated = sections(HELP_CENTER / lang / f"{namespace}.md")
    assert len(translated) == len(english), f"{lang}/{namespace}.md: {len(translated)} sections, English has " \
                                            f"{len(english)}"
    for (en_title, en_text), (title, text) in zip(english, translated, strict=True):
        assert numbers(text) == numbers(en_text), f"{lang}/{namespace}.md, section {title!r} (English " \
                                                  f"{en_title!r}): numbers differ"


def test_every_language_has_every_namespace() -> None:
    for lang in TRANSLATIONS:
        assert sorted(p.stem for p in (HELP_CENTER / lang).glob("*.md")) == sorted(AREA_NAMESPACES), lang
