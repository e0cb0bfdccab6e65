"""`levhaolam eval ...`: export a dataset from past tickets, run experiments comparing configs, report, and manage
category-rule versions (add one to try, promote the winner with who/when/why).

Every failure a person can fix ends as one line on stderr and exit code 1, like the rest of the CLI.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any, TypeVar

import psycopg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evals.models import LabError
from levhaolam.one_line_errors import one_line_errors
from schemas.categories import Category, parse_category
from schemas.settings import Settings
from store.database import check_reachable, database_url
from store.migrate import migrate

eval_app = typer.Typer(help="The eval lab: datasets from tickets, experiments comparing configs, reports, rules.",
                       no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")
DEFAULT_DATASET = Path("eval-data/tickets.jsonl")
DEFAULT_REPORT_DIR = Path("eval-data/reports")
DEFAULT_CONFIGS = [Path(__file__).with_name("configs") / "baseline.toml",
                   Path(__file__).with_name("configs") / "cautious.toml"]


class EvalError(LabError):
    """A one-line error for the user."""


command = one_line_errors(LabError)


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise EvalError(f"{str(first['loc'][0]).upper() if first['loc'] else 'settings'}: {first['msg']}") from None


async def connect(config: Settings) -> psycopg.AsyncConnection:
    url = database_url(config)
    await check_reachable(url, config.db_connect_timeout_s)
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=config.db_connect_timeout_s)
    await migrate(conn)
    return conn


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False, disable=not err.is_terminal)


@eval_app.command("export")
@command
async def export(
    out_path: Annotated[Path, typer.Option("--out", help="The dataset file (JSONL)")] = DEFAULT_DATASET,
    per_category: Annotated[int, typer.Option(min=1, max=10_000, help="Tickets per category")] = 20,
    name: Annotated[str, typer.Option(help="The dataset's name (also in Langfuse)")] = "support-tickets",
    langfuse: Annotated[bool, typer.Option(help="Also create/update the Langfuse dataset when keys are set")] = True,
) -> None:
    """Past tickets (best human answers, balanced over the categories) → a dataset for `eval run`."""
    from evals import dataset as datasets
    from evals.langfuse_sync import LangfuseLab

    config = settings()
    async with await connect(config) as conn:
        with progress_bar() as bar:
            task = bar.add_task("exporting tickets", total=len(Category))
            items = await datasets.export_items(conn, per_category, progress=lambda n: bar.advance(task, n))
    if not items:
        raise EvalError("no answered tickets in support_threads_data; run `levhaolam demo` or `levhaolam seed`")
    count = datasets.write_jsonl(items, out_path)
    out.print(f"Wrote {count} items to {out_path} ("
              + ", ".join(f"{c.value} {sum(i.expected.category is c for i in items)}" for c in Category) + ")")
    lab = LangfuseLab.open(config) if langfuse else None
    if lab is not None:
        try:
            uploaded = await asyncio.to_thread(lab.upload_dataset, name, items,
                                               "Support tickets with the best human answer (redacted)")
        finally:
            await asyncio.to_thread(lab.close)
        out.print(f"Langfuse dataset {name!r}: {uploaded} items")


@eval_app.command("run")
@command
async def run(
    config_paths: Annotated[list[Path] | None, typer.Option(
        "--config", help="A config; repeat to compare (default: evals/configs/baseline.toml, cautious.toml)")] = None,
    dataset_path: Annotated[Path, typer.Option("--dataset", help="From `eval export`")] = DEFAULT_DATASET,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N items")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Tickets replayed at once")] = 4,
    cost_cap: Annotated[float | None, typer.Option(min=0, help="Stop starting tickets once this many USD are spent")
                        ] = None,
    judge: Annotated[bool, typer.Option(help="LLM-as-judge (accuracy, tone, safety) when OPENAI_API_KEY is set")
                     ] = True,
    by: Annotated[str, typer.Option(help="Who runs the experiment (recorded)")] = "staff",
) -> None:
    """Replay the dataset through the orchestrator under each config, judge every answer, store the run."""
    import telemetry
    from evals import dataset as datasets
    from evals import report as reports
    from evals.configs import load_configs
    from evals.judges import LlmJudge
    from evals.langfuse_sync import LangfuseLab
    from evals.platform import local_servers, with_secret
    from evals.runner import RunOptions, new_run_key, run_experiment
    from orchestrator.service import openai_model
    from store.database import open_pool

    # The servers log every refused tool call; in an experiment those refusals are answers being judged, not news.
    logging.getLogger("fastmcp").setLevel(logging.CRITICAL)
    configs = load_configs(config_paths or DEFAULT_CONFIGS)
    try:
        items = datasets.read_jsonl(dataset_path)[:limit]
    except OSError as exc:
        raise EvalError(f"{dataset_path}: cannot read ({exc.strerror}); run `levhaolam eval export` first") from None
    except ValueError as exc:
        raise EvalError(str(exc)) from None
    if not items:
        raise EvalError(f"{dataset_path} has no items")
    config = with_secret(settings())
    telemetry.setup(config, "levhaolam-eval")
    llm_judge = None
    if judge:
        model = openai_model(config, config.judge_model)
        llm_judge = LlmJudge(model, config.judge_model) if model is not None else None
    lab = LangfuseLab.open(config)
    async with await connect(config) as conn:
        await conn.execute("SELECT 1")
    key = new_run_key()
    with progress_bar() as bar:
        tasks = {c.name: bar.add_task(f"{c.name}", total=len(items)) for c in configs}
        async with local_servers(config, say=lambda line: err.print(line)) as urls, open_pool(
                database_url(config), max_size=4) as pool:
            outcome = await run_experiment(
                config, pool, items, configs, urls,
                RunOptions(concurrency=concurrency, cost_cap_usd=cost_cap, created_by=by, run_key=key,
                           dataset_name=str(dataset_path)),
                judge=llm_judge, progress=lambda name, _result: bar.advance(tasks[name]),
                on_result=(lambda result: lab.record_scores(key, result)) if lab else None)
    if lab is not None:
        await asyncio.to_thread(lab.close)
    telemetry.flush()
    async with await connect(config) as conn:
        report = await reports.load(conn, outcome.run_key)
    out.print(f"Run [bold]{outcome.run_key}[/]: {outcome.status}, {len(outcome.results)} answers"
              + (f", {outcome.skipped} skipped at the cost cap" if outcome.skipped else "")
              + f", ${outcome.spent_usd:.4f} spent")
    for line in report.headline():
        out.print("  " + line, highlight=False)
    out.print(f"Report: levhaolam eval report --run {outcome.run_key}")


@eval_app.command("report")
@command
async def report(
    run_key: Annotated[str | None, typer.Option("--run", help="A run key (default: the latest run)")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where report.html and the plots go")] = DEFAULT_REPORT_DIR,
) -> None:
    """Scores, decisions, cost per ticket and latency per config and category: a table here, HTML with plots."""
    from evals import report as reports
    async with await connect(settings()) as conn:
        loaded = await reports.load(conn, run_key)
        images = await asyncio.to_thread(reports.plots, loaded)
        page = reports.render_html(loaded, images)
        await reports.save(conn, loaded, page)
    target = out_dir / loaded.run_key
    target.mkdir(parents=True, exist_ok=True)
    (target / "report.html").write_text(page, encoding="utf-8")
    for name, data in images.items():
        (target / name).write_bytes(data)
    print_tables(loaded)
    out.print(f"HTML report: {target / 'report.html'}")


def print_tables(loaded: Any) -> None:
    from evals import report as reports

    table = Table(title=f"Experiment {loaded.run_key} ({loaded.status})")
    for column in ("config", "tickets", "quality", "category", "actions", "arguments", "confirmation", "red lines",
                   "language", "accuracy", "tone", "safety", "auto-send", "$/ticket", "p50", "p95"):
        table.add_column(column, justify="left" if column == "config" else "right")
    for name in loaded.config_names:
        cell = loaded.overall.get(name, reports.Cell())
        table.add_row(name, str(cell.n), reports._pct(cell.quality),
                      *(reports._pct(cell.mean(s)) for s in reports.SCORES), reports._pct(cell.share("auto_send")),
                      f"{cell.cost_per_ticket:.4f}", reports._ms(cell.latency(0.5)), reports._ms(cell.latency(0.95)))
    out.print(table)
    by_category = Table(title="Quality per category (auto-send share, $/ticket)")
    by_category.add_column("category")
    for name in loaded.config_names:
        by_category.add_column(name, justify="right")
    for category, cells in loaded.by_category.items():
        by_category.add_row(category, *(
            f"{reports._pct(cells[n].quality)} ({reports._pct(cells[n].share('auto_send'))}, "
            f"${cells[n].cost_per_ticket:.4f})" if n in cells else "–" for n in loaded.config_names))
    out.print(by_category)


@eval_app.command("add-rules")
@command
async def add_rules(
    category: Annotated[str, typer.Argument(help="One of the 10 categories")],
    file: Annotated[Path, typer.Argument(help="A text file with the new rules")],
    by: Annotated[str, typer.Option(help="Who wrote them (recorded)")],
) -> None:
    """Add a new, inactive version of a category's rules, to pin in an experiment (the `rules` table of a config)."""
    from evals.rules import add_version
    try:
        text = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise EvalError(f"{file}: cannot read ({exc.strerror})") from None
    async with await connect(settings()) as conn:
        version = await add_version(conn, parse_category(category), text, by)
    out.print(f"{category}: version {version} added (inactive). Pin it in a config: [rules] {category} = {version}")


@eval_app.command("promote")
@command
async def promote_rules(
    category: Annotated[str, typer.Argument(help="One of the 10 categories")],
    version: Annotated[int, typer.Argument(min=1, help="The version to make active")],
    by: Annotated[str, typer.Option(help="Who decides (recorded)")],
    why: Annotated[str, typer.Option(help="Why (recorded), e.g. the experiment's result")],
    run_key: Annotated[str | None, typer.Option("--run", help="The experiment that supports it")] = None,
) -> None:
    """Make a rules version the active one, recording who, when and why (and the experiment)."""
    from evals.rules import promote
    async with await connect(settings()) as conn:
        before, after = await promote(conn, parse_category(category), version, by, why, run_key)
    out.print(f"{category}: version {after} is active (was {before if before is not None else 'none'}); "
              f"recorded by {by}")
