"""One measured figure, beside its target, in the shape every bench writes with `--json PATH` and `levhaolam bench`
collects: a percentile or a ratio from one run, never a single timing."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    bench: str
    name: str
    value: float
    unit: str  # "ms", "x", "%", "/s", "s"
    target: float | None = None  # None: reported, no target
    lower_is_better: bool = True
    scale: str = "1x"  # the data size it was measured at

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def p50(values: list[float]) -> float:
    return statistics.median(values)


def write_json(path: Path | None, figures: list[Figure]) -> None:
    if path is None:
        return
    path.write_text(json.dumps([asdict(f) | {"met": f.met} for f in figures], indent=2))


def read_json(path: Path) -> list[Figure]:
    return [Figure(**{k: v for k, v in item.items() if k != "met"}) for item in json.loads(path.read_text())]
