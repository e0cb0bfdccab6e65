"""Charts of query results: a Vega-Lite spec (for any front end) and the same chart as a PNG."""

from __future__ import annotations

import io
import math
from typing import Any, Literal

from schemas.analytics import QueryResult

ChartKind = Literal["bar", "line"]
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


class ChartError(ValueError):
    """The rows cannot be charted as asked; the message says what to change."""


def records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _field_type(values: list[Any]) -> str:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, int | float):
        return "quantitative"
    if isinstance(sample, str) and len(sample) >= 10 and sample[4] == "-" and sample[7] == "-":
        return "temporal"
    return "nominal"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_rows(data: list[dict[str, Any]], x: str, y: str) -> None:
    """Every row, not only the first: a later row without the column or with text in y would fail the drawing."""
    for index, row in enumerate(data):
        for field in (x, y):
            if field not in row:
                raise ChartError(f"row {index} has no column {field!r}; columns of row 0 are {', '.join(data[0])}")
        if row[y] is not None and not _is_number(row[y]):
            raise ChartError(f"the y column {y!r} must be numeric, but row {index} has {str(row[y])[:40]!r}; chart a "
                             "count or another number, or leave the value empty (null)")
    if all(row[y] is None for row in data):
        raise ChartError(f"the y column {y!r} has no numbers to chart")


def vega_lite(data: list[dict[str, Any]], kind: ChartKind, x: str, y: str, title: str) -> dict[str, Any]:
    if not data:
        raise ChartError("there are no rows to chart")
    _check_rows(data, x, y)
    x_type = _field_type([row[x] for row in data])
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
    """Draw the spec's bar or line chart with matplotlib (no display, no network).

    Titles and labels are drawn as written: matplotlib would otherwise read `$...$` as TeX math, and a title or
    a category such as "$5 box" or "$\\frac{$" would fail to draw."""
    import matplotlib

    matplotlib.use("Agg")
    try:
        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            return _draw(spec)
    except (ValueError, OverflowError, RecursionError) as exc:  # what matplotlib raises on text it cannot lay out
        raise ChartError(f"the chart could not be drawn ({type(exc).__name__}); shorten the title and labels "
                         "or chart fewer rows") from None


def _short(label: str, limit: int = 40) -> str:
    # A tick label longer than the chart is wide cannot be laid out; the spec keeps the full value.
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _draw(spec: dict[str, Any]) -> bytes:
    # A Figure of its own, not pyplot's global state: charts are drawn in worker threads.
    from matplotlib.figure import Figure

    data = spec["data"]["values"]
    x, y = spec["encoding"]["x"]["field"], spec["encoding"]["y"]["field"]
    if spec["encoding"]["x"].get("sort") == "-y":
        data = sorted(data, key=lambda row: row[y] or 0, reverse=True)
    labels = [_short(str(row[x])) for row in data]
    values = [float(row[y] or 0) for row in data]
    figure = Figure(figsize=(8, 4.2), dpi=100)
    axes = figure.subplots()
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
