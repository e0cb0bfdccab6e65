"""`levhaolam eval report`: per config and per category, the judges' scores, the gate's decisions, cost per ticket
and latency, as a terminal table and a self-contained HTML page with plots (also kept in `eval_runs`, where the
console shows the latest)."""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from evals.judges import DETERMINISTIC, LLM
from evals.models import LabError

SCORES = (*DETERMINISTIC, *LLM)


class ReportError(LabError):
    pass


@dataclass
class Cell:
    """The aggregates of some results (one config, maybe one category)."""

    n: int = 0
    scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    decisions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    costs: list[float] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)
    errors: int = 0

    def add(self, row: dict[str, Any]) -> None:
        self.n += 1
        for name in SCORES:
            value = row["scores"].get(name)
            if isinstance(value, int | float):
                self.scores[name].append(float(value))
        self.decisions[row["decision"] or "error"] += 1
        self.costs.append(float(row["cost_usd"] or 0))
        if row["latency_ms"] is not None:
            self.latencies.append(int(row["latency_ms"]))
        self.errors += 1 if row["error"] else 0

    def mean(self, name: str) -> float | None:
        values = self.scores.get(name)
        return statistics.fmean(values) if values else None

    @property
    def quality(self) -> float | None:
        """The mean of the deterministic judges that applied: one number to rank configs by."""
        means = [m for m in (self.mean(name) for name in DETERMINISTIC) if m is not None]
        return statistics.fmean(means) if means else None

    def share(self, decision: str) -> float:
        return self.decisions.get(decision, 0) / self.n if self.n else 0.0

    @property
    def cost_per_ticket(self) -> float:
        return statistics.fmean(self.costs) if self.costs else 0.0

    def latency(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "quality": self.quality, "scores": {name: self.mean(name) for name in SCORES},
                "decisions": dict(self.decisions), "cost_per_ticket_usd": round(self.cost_per_ticket, 6),
                "latency_p50_ms": self.latency(0.5), "latency_p95_ms": self.latency(0.95), "errors": self.errors}


@dataclass
class Report:
    run_key: str
    dataset: str
    status: str
    started_at: datetime
    created_by: str
    configs: list[dict[str, Any]]
    overall: dict[str, Cell]
    by_category: dict[str, dict[str, Cell]]  # category -> config -> cell

    @property
    def config_names(self) -> list[str]:
        return [config["name"] for config in self.configs]

    def summary(self) -> dict[str, Any]:
        return {"run_key": self.run_key, "dataset": self.dataset, "status": self.status,
                "overall": {name: cell.as_json() for name, cell in self.overall.items()},
                "by_category": {category: {name: cell.as_json() for name, cell in cells.items()}
                                for category, cells in self.by_category.items()}}

    def headline(self) -> list[str]:
        lines = []
        for name in self.config_names:
            cell = self.overall.get(name, Cell())
            lines.append(f"{name}: quality {_pct(cell.quality)}, category {_pct(cell.mean('category'))}, actions "
                         f"{_pct(cell.mean('actions'))}, red lines {_pct(cell.mean('red_lines'))}, auto-send "
                         f"{_pct(cell.share('auto_send'))}, ${cell.cost_per_ticket:.4f}/ticket, p50 "
                         f"{_ms(cell.latency(0.5))} ({cell.n} tickets)")
        return lines


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def build(run: dict[str, Any], rows: Iterable[dict[str, Any]]) -> Report:
    overall: dict[str, Cell] = defaultdict(Cell)
    by_category: dict[str, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for row in rows:
        overall[row["config"]].add(row)
        by_category[row["expected_category"]][row["config"]].add(row)
    return Report(run["run_key"], run["dataset"], run["status"], run["started_at"], run["created_by"],
                  list(run["configs"]), dict(overall), {k: dict(v) for k, v in sorted(by_category.items())})


async def load(conn: psycopg.AsyncConnection, run_key: str | None = None) -> Report:
    cur = conn.cursor(row_factory=dict_row)
    if run_key is None:
        await cur.execute("SELECT * FROM eval_runs ORDER BY started_at DESC, id DESC LIMIT 1")
    else:
        await cur.execute("SELECT * FROM eval_runs WHERE run_key = %s", (run_key,))
    run = await cur.fetchone()
    if run is None:
        raise ReportError("no experiment run yet (run `levhaolam eval run` first)" if run_key is None
                          else f"no experiment run {run_key!r}")
    await cur.execute("SELECT config, expected_category, decision, scores, cost_usd, latency_ms, error "
                      "FROM eval_results WHERE run_id = %s ORDER BY id", (run["id"],))
    return build(run, await cur.fetchall())


async def save(conn: psycopg.AsyncConnection, report: Report, page: str) -> None:
    await conn.execute("UPDATE eval_runs SET summary = %s, report_html = %s WHERE run_key = %s",
                       (Jsonb(report.summary()), page, report.run_key))


# ------------------------------------------------------------------ plots
def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def plots(report: Report) -> dict[str, bytes]:
    """Grouped bars: judges per config, quality per category per config, cost and latency per config."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the plots go into files and the HTML page
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    names = report.config_names
    width = 0.8 / max(1, len(names))
    out: dict[str, bytes] = {}

    def bars(title: str, labels: list[str], values: dict[str, list[float]], ylabel: str, percent: bool) -> Figure:
        figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 3.6))
        for index, name in enumerate(names):
            positions = [x + (index - (len(names) - 1) / 2) * width for x in range(len(labels))]
            axes.bar(positions, [100 * v if percent else v for v in values[name]], width, label=name)
        axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        if percent:
            axes.set_ylim(0, 105)
        axes.legend(fontsize="small")
        axes.grid(axis="y", alpha=0.3)
        return figure

    judged = [name for name in SCORES if any(report.overall[c].mean(name) is not None for c in names
                                             if c in report.overall)]
    figure = bars("Judges per config", judged, {c: [report.overall.get(c, Cell()).mean(j) or 0.0 for j in judged]
                                                for c in names}, "score (%)", True)
    out["judges.png"] = _png(figure)
    categories = list(report.by_category)
    figure = bars("Quality per category", categories,
                  {c: [report.by_category[k].get(c, Cell()).quality or 0.0 for k in categories] for c in names},
                  "quality (%)", True)
    out["categories.png"] = _png(figure)
    figure, (cost_axes, latency_axes) = plt.subplots(1, 2, figsize=(9, 3.2))
    cost_axes.bar(names, [report.overall.get(c, Cell()).cost_per_ticket for c in names], color="tab:green")
    cost_axes.set_title("Cost per ticket (USD)")
    latency_axes.bar(names, [report.overall.get(c, Cell()).latency(0.5) or 0.0 for c in names], label="p50")
    latency_axes.bar(names, [(report.overall.get(c, Cell()).latency(0.95) or 0.0) -
                             (report.overall.get(c, Cell()).latency(0.5) or 0.0) for c in names],
                     bottom=[report.overall.get(c, Cell()).latency(0.5) or 0.0 for c in names], alpha=0.4,
                     label="p95")
    latency_axes.set_title("Latency per turn (ms)")
    latency_axes.legend(fontsize="small")
    out["cost_latency.png"] = _png(figure)
    plt.close("all")
    return out


# ------------------------------------------------------------------ HTML
def _td(value: str, best: bool = False) -> str:
    return f"<td class=\"num{' best' if best else ''}\">{html.escape(value)}</td>"


def _table_overall(report: Report) -> str:
    head = ["config", "tickets", "quality", *SCORES, "auto-send", "draft", "escalate", "$/ticket", "p50", "p95",
            "errors"]
    rows = []
    qualities = {c: report.overall[c].quality for c in report.config_names if c in report.overall}
    top = max((q for q in qualities.values() if q is not None), default=None)
    for name in report.config_names:
        cell = report.overall.get(name, Cell())
        cells = [f"<th>{html.escape(name)}</th>", _td(str(cell.n)), _td(_pct(cell.quality), cell.quality == top)]
        cells += [_td(_pct(cell.mean(s))) for s in SCORES]
        cells += [_td(_pct(cell.share(d))) for d in ("auto_send", "draft", "escalate")]
        cells += [_td(f"{cell.cost_per_ticket:.4f}"), _td(_ms(cell.latency(0.5))), _td(_ms(cell.latency(0.95))),
                  _td(str(cell.errors))]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table id=\"overall\"><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _table_categories(report: Report) -> str:
    names = report.config_names
    head = "".join(f"<th>{html.escape(n)}: quality</th><th>{html.escape(n)}: auto-send</th>"
                   f"<th>{html.escape(n)}: $/ticket</th>" for n in names)
    rows = []
    for category, cells in report.by_category.items():
        qualities = [q for q in (cells[n].quality for n in names if n in cells) if q is not None]
        top = max(qualities, default=None)
        parts = [f"<th>{html.escape(category)}</th>", _td(str(max((c.n for c in cells.values()), default=0)))]
        for name in names:
            cell = cells.get(name, Cell())
            parts += [_td(_pct(cell.quality), cell.quality == top and len(qualities) > 1),
                      _td(_pct(cell.share("auto_send"))), _td(f"{cell.cost_per_ticket:.4f}")]
        rows.append("<tr>" + "".join(parts) + "</tr>")
    return (f"<table id=\"by-category\"><thead><tr><th>category</th><th>tickets</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;
margin-top:28px}table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.best{background:#e6f4ea;font-weight:600}
img{max-width:100%;border:1px solid #eee;margin:6px 0}.meta{color:#666}code{background:#f4f4f4;padding:1px 4px}"""


def render_html(report: Report, images: dict[str, bytes]) -> str:
    configs = "".join(
        f"<li><b>{html.escape(c['name'])}</b> — {html.escape(c.get('description') or c.get('source', ''))}"
        f"{' · rules pinned: ' + html.escape(str(c['rule_pins'])) if c.get('rule_pins') else ''}</li>"
        for c in report.configs)
    pictures = "".join(f"<img alt=\"{html.escape(name)}\" src=\"data:image/png;base64,"
                       f"{base64.b64encode(data).decode()}\">" for name, data in images.items())
    headline = "".join(f"<li>{html.escape(line)}</li>" for line in report.headline())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Experiment {html.escape(
        report.run_key)}</title><style>{STYLE}</style></head><body>
<h1>Experiment <code>{html.escape(report.run_key)}</code></h1>
<p class="meta">dataset {html.escape(report.dataset)} · {html.escape(report.status)} · started
{report.started_at:%Y-%m-%d %H:%M} UTC by {html.escape(report.created_by)}</p>
<ul id="headline">{headline}</ul>
<h2>Configs</h2><ul>{configs}</ul>
<h2>Per config</h2>{_table_overall(report)}
<h2>Per category</h2>{_table_categories(report)}
<h2>Plots</h2>{pictures}
<p class="meta">Quality is the mean of the deterministic judges ({', '.join(DETERMINISTIC)}); accuracy, tone and
safety come from the LLM judge when a model key was set. Scores are shares of the best possible.</p>
</body></html>"""
