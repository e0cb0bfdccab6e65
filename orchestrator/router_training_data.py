"""Training data for the offline router: hand-written phrasebooks expanded with fillers and noise.

The phrasebooks (``router_training/<lang>.toml``) hold what customers write, per category. Real messages are
messier than that, so each phrase is also emitted with typos, without punctuation, and wrapped in greetings,
small talk and signatures; the classifier then learns that those parts carry no intent.
Everything is driven by one seeded ``random.Random``, so the same files always give the same examples.

``router_training/dev.jsonl`` and ``dev_final.jsonl`` are hand-written messages in another style (longer, chattier,
some with two requests), never used for training: they measure the router (``python -m orchestrator.router_offline``).
Each line: text, primary, secondary (or null), language and, in dev.jsonl, the expected urgency.
"""

from __future__ import annotations

import json
import random
import re
import string
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from schemas.categories import Category

DATA_DIR = Path(__file__).with_name("router_training")
DEV_FILE = DATA_DIR / "dev.jsonl"
SEED = 20240611

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# How many filled-in variants a template with placeholders yields: enough to vary the fillers, few enough
# that templates do not outweigh plain phrases.
_VARIANTS_PER_TEMPLATE = 3
_GIBBERISH_ALPHABETS = (string.ascii_lowercase, "абвгдежзийклмнопрстуфхцчшщыэюя", "אבגדהוזחטיכלמנסעפצקרשת")


@dataclass(frozen=True)
class Example:
    text: str
    label: Category
    language: str


@dataclass(frozen=True)
class DevExample:
    text: str
    primary: Category
    secondary: Category | None
    language: str
    urgency: str | None


@dataclass(frozen=True)
class Phrasebook:
    language: str
    fillers: dict[str, list[str]]
    wrap: dict[str, list[str]]
    examples: dict[Category, list[str]]


def load_phrasebook(path: Path) -> Phrasebook:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    examples = {Category(name): list(phrases) for name, phrases in data["examples"].items()}
    return Phrasebook(data["language"], data.get("fillers", {}), data.get("wrap", {}), examples)


def load_phrasebooks(directory: Path = DATA_DIR) -> list[Phrasebook]:
    # Sorted so the expansion order, and with it every random choice, is the same on every machine.
    return [load_phrasebook(path) for path in sorted(directory.glob("*.toml"))]


def fill(template: str, fillers: dict[str, list[str]], rng: random.Random) -> str:
    return _PLACEHOLDER.sub(lambda m: rng.choice(fillers[m.group(1)]), template)


def expand(template: str, fillers: dict[str, list[str]], rng: random.Random) -> list[str]:
    """The template itself, or a few distinct fill-ins of its placeholders."""
    if not _PLACEHOLDER.search(template):
        return [template]
    variants = {fill(template, fillers, rng) for _ in range(_VARIANTS_PER_TEMPLATE)}
    return sorted(variants)


def typo(text: str, rng: random.Random) -> str:
    """One to three keyboard slips (drop, swap, double a letter), as people make on a phone."""
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    for _ in range(min(3, 1 + len(letters) // 25)):
        if len(letters) < 4:
            break
        i = rng.choice(letters[:-1])
        op = rng.randrange(3)
        if op == 0:
            chars[i] = ""
        elif op == 1:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = chars[i] * 2
    return "".join(chars)


def strip_punctuation(text: str) -> str:
    return re.sub(r"[^\w\s'@-]", "", text).lower().strip()


def wrap(text: str, book: Phrasebook, rng: random.Random) -> str:
    """Greeting, maybe a sentence of context, the request, a sign-off: the shape of an email."""
    parts = []
    if book.wrap.get("greeting") and rng.random() < 0.8:
        parts.append(rng.choice(book.wrap["greeting"]) + rng.choice([",", "!", ""]))
    if book.wrap.get("context") and rng.random() < 0.5:
        parts.append(rng.choice(book.wrap["context"]))
    parts.append(text)
    if book.wrap.get("signoff") and rng.random() < 0.7:
        parts.append(rng.choice(book.wrap["signoff"]))
    return rng.choice([" ", "\n", "\n\n"]).join(parts)


def variants(phrase: str, book: Phrasebook, rng: random.Random) -> Iterator[str]:
    """The noisy versions of one phrase that the classifier should treat like the phrase itself.

    No upper-case variant: the router lower-cases before classifying, so shouting needs no training.
    Four variants per phrase is where more stopped helping on held-out phrases but kept costing load time.
    """
    yield phrase
    yield typo(phrase, rng)
    yield typo(strip_punctuation(phrase), rng)
    yield wrap(phrase, book, rng)


def gibberish(rng: random.Random, count: int) -> list[str]:
    """Keyboard mashing in each script: the model must not read an intent into it."""
    out = []
    for _ in range(count):
        alphabet = rng.choice(_GIBBERISH_ALPHABETS)
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(3, 9))) for _ in range(rng.randint(1, 3))]
        out.append(" ".join(words))
    return out


def training_examples(seed: int = SEED, directory: Path = DATA_DIR) -> list[Example]:
    rng = random.Random(seed)
    examples: list[Example] = []
    for book in load_phrasebooks(directory):
        for category, templates in book.examples.items():
            for template in templates:
                for phrase in expand(template, book.fillers, rng):
                    examples.extend(Example(text, category, book.language) for text in variants(phrase, book, rng))
        # Greetings, context sentences and sign-offs alone are what a message with no request looks like.
        for part in ("greeting", "context", "signoff"):
            examples.extend(Example(text, Category.OTHER, book.language) for text in book.wrap.get(part, []))
    examples.extend(Example(text, Category.OTHER, "xx") for text in gibberish(rng, 60))
    return examples


def phrase_count(directory: Path = DATA_DIR) -> int:
    """Distinct hand-written phrases (before filling and noise), for reporting."""
    return sum(len(t) for book in load_phrasebooks(directory) for t in book.examples.values())


def load_dev(path: Path = DEV_FILE) -> list[DevExample]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        secondary = Category(row["secondary"]) if row.get("secondary") else None
        rows.append(DevExample(row["text"], Category(row["primary"]), secondary, row["language"], row.get("urgency")))
    return rows
