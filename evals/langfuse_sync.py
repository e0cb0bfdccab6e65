"""The eval lab's Langfuse side, when its keys are set: the dataset (redacted) as a Langfuse dataset, and every
judge's score on the trace of the answer it judged, so experiments can be compared in Langfuse too.

The client gets a private `TracerProvider`: the platform's spans already reach Langfuse through `telemetry`, and
the SDK would otherwise attach a second exporter to the global provider. Scores and dataset calls go through the
SDK's REST client and its background score queue; `close()` flushes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from evals.models import DatasetItem, ItemResult
from schemas.settings import Settings
from telemetry.exporting import DEFAULT_LANGFUSE_HOST
from telemetry.redaction import redact_text


def configured(settings: Settings) -> bool:
    return settings.langfuse_public_key is not None and settings.langfuse_secret_key is not None


@dataclass
class LangfuseLab:
    client: Any

    @classmethod
    def open(cls, settings: Settings) -> LangfuseLab | None:
        if settings.langfuse_public_key is None or settings.langfuse_secret_key is None:
            return None
        from langfuse import Langfuse

        return cls(Langfuse(public_key=settings.langfuse_public_key.get_secret_value(),
                            secret_key=settings.langfuse_secret_key.get_secret_value(),
                            base_url=(settings.langfuse_host or DEFAULT_LANGFUSE_HOST).rstrip("/"),
                            tracer_provider=TracerProvider()))

    def upload_dataset(self, name: str, items: Iterable[DatasetItem], description: str) -> int:
        """The dataset with contact details removed (Langfuse is outside the platform); item ids are stable, so a
        re-export updates the same items."""
        self.client.create_dataset(name=name, description=description,
                                   metadata={"source": "support_threads_data"})
        count = 0
        for item in items:
            self.client.create_dataset_item(
                dataset_name=name, id=f"{name}:{item.id}",
                input={"messages": [redact_text(m) for m in item.messages], "channel": item.channel},
                expected_output={**item.expected.model_dump(mode="json"),
                                 "reference": redact_text(item.reference) if item.reference else None},
                metadata={**item.metadata, "ticket": item.id, "customer_id": item.customer_id})
            count += 1
        return count

    def record_scores(self, run_key: str, result: ItemResult) -> int:
        trace_id = result.answer.trace_id
        if not trace_id or len(trace_id) != 32:
            return 0
        count = 0
        for name, value in result.scores.items():
            if value is None:
                continue
            self.client.create_score(name=f"eval.{name}", value=float(value), trace_id=trace_id,
                                     data_type="NUMERIC", comment=result.judge_notes.get("judge"),
                                     metadata={"run": run_key, "config": result.config, "item": result.item_id})
            count += 1
        return count

    def close(self) -> None:
        self.client.flush()
        self.client.shutdown()
