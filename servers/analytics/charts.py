"""Charts of query results: a Vega-Lite spec (for any front end) and the same chart as a PNG."""

from __future__ import annotations

import io
from typing import Any, Literal

from schemas.analytics import QueryResult

ChartKind = Literal["bar", "line"]
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


class ChartError(ValueError):
    pass


def records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _field_type(values: list[Any]) -> str:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, int | float):
        return "quantitative"
    if isinstance(sample, str) and len(sample) >= 10 and sample[4] == "-" and sample[7] == "-":
        return "temporal"
    return "nominal"


def vega_lite(data: list[dict[str, Any]], kind: ChartKind, x: str, y: str, title: str) -> dict[str, Any]:
    if not data:
        raise ChartError("there are no rows to chart")
    for field in (x, y):
        if field not in data[0]:
            raise ChartError(f"no column {field!r} in the data; columns are {', '.join(data[0])}")
    x_type = _field_type([row[x] for row in data])
    if _field_type([row[y] for row in data]) != "quantitative":
        raise ChartError(f"the y column {y!r} must be numeric")
    x_encoding: dict[str, Any] = {"field": x, "type": x_type, "title": x.replace("_", " ")}
    if kind == "bar" and x_type == "nominal":
        x_encoding["sort"] = "-y"
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "data": {"values": data},
        "mark": {"type": kind, "tooltip": True},
        "encoding": {"x": x_encoding, "y": {"field": y, "type": "quantitative", "title": y.replace("_", " ")}},
        "width": 560,
        "height": 300,
    }


def render_png(spec: dict[str, Any]) -> bytes:
    """Draw the spec's bar or line chart with matplotlib (no display, no network)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    data = spec["data"]["values"]
    x, y = spec["encoding"]["x"]["field"], spec["encoding"]["y"]["field"]
    if spec["encoding"]["x"].get("sort") == "-y":
        data = sorted(data, key=lambda row: row[y] or 0, reverse=True)
    labels = [str(row[x]) for row in data]
    values = [float(row[y] or 0) for row in data]
    figure, axes = plt.subplots(figsize=(8, 4.2), dpi=100)
    try:
        if spec["mark"]["type"] == "line":
            axes.plot(range(len(values)), values, marker="o", markersize=3, color="#1f6f8b")
            step = max(1, len(labels) // 10)
            axes.set_xticks(range(0, len(labels), step), labels[::step])
        else:
            axes.bar(labels, values, color="#1f6f8b")
        axes.set_title(spec.get("title", ""))
        axes.set_xlabel(spec["encoding"]["x"]["title"])
        axes.set_ylabel(spec["encoding"]["y"]["title"])
        axes.tick_params(axis="x", labelrotation=35)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
        axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
