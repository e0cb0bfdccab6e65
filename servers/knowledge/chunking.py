"""Documents to passages: Markdown by `##` section, JSON and CSV by record; long text split with overlap."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 1200
OVERLAP_CHARS = 200
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


class DocumentError(ValueError):
    """A file that cannot be read as knowledge; the message says what is wrong with it."""


@dataclass(frozen=True)
class Chunk:
    title: str
    content: str
    metadata: dict

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(" ".join(self.content.split()).lower().encode()).hexdigest()


def split_long(text: str, max_chars: int = MAX_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    """Split on sentence ends into pieces of at most max_chars, each starting with the previous one's tail."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return [text]
    sentences = re.split(r"(?<=[.!?])\s+", text)
    pieces, current = [], ""
    for sentence in sentences:
        while len(sentence) > max_chars:  # one endless sentence: cut it hard
            sentence, rest = sentence[:max_chars], sentence[max_chars:]
            pieces.append(sentence)
            sentence = rest
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = current[-overlap:].split(" ", 1)[-1] + " " + sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _markdown(text: str) -> tuple[dict, list[Chunk]]:
    meta: dict = {}
    if match := _FRONT_MATTER.match(text):
        for line in match.group(1).splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                meta[key.strip()] = value.strip()
        text = text[match.end():]
    chunks = []
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title, _, body = section.partition("\n")
        body = body.strip()
        if not body:
            continue
        for piece in split_long(body):
            chunks.append(Chunk(title=title.strip(), content=f"{title.strip()}\n{piece}", metadata={}))
    return meta, chunks


def _records(records: list, where: str) -> list[Chunk]:
    chunks = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise DocumentError(f"{where}: record {index + 1} is not an object")
        title = str(record.get("question") or record.get("title") or "").strip()
        body = str(record.get("answer") or record.get("content") or "").strip()
        if not title or not body:
            raise DocumentError(f"{where}: record {index + 1} needs question/answer or title/content")
        extra = {k: v for k, v in record.items() if k not in ("question", "answer", "title", "content")}
        for piece in split_long(body):
            chunks.append(Chunk(title=title, content=f"{title}\n{piece}", metadata=extra))
    return chunks


def read_document(path: Path) -> tuple[str | None, list[Chunk]]:
    """(namespace named in the file, if any; chunks). DocumentError if the file is not usable."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{path.name}: not UTF-8 text") from None
    except OSError as exc:
        raise DocumentError(f"{path.name}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix == ".md":
        meta, chunks = _markdown(text)
        namespace = meta.get("namespace")
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        namespace = data.get("namespace") if isinstance(data, dict) else None
        records = data.get("entries") if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise DocumentError(f"{path.name}: expected a list of records or {{\"entries\": [...]}}")
        chunks = _records(records, path.name)
    elif suffix == ".csv":
        try:
            rows = list(csv.DictReader(io.StringIO(text)))
        except csv.Error as exc:
            raise DocumentError(f"{path.name}: invalid CSV: {exc}") from None
        namespace = None
        chunks = _records(rows, path.name)
    else:
        raise DocumentError(f"{path.name}: only .md, .json and .csv files are ingested")
    if not chunks:
        raise DocumentError(f"{path.name}: no passages found (Markdown needs '## ' sections)")
    return namespace, chunks
