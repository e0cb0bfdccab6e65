"""The `levhaolam` command as a person runs it: real console script, real database, one-line errors."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from store.migrate import discover

LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | (env or {})
    return subprocess.run([LEVHAOLAM, *args], env=full_env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_on_a_fresh_machine_starts_embedded_postgres_seeds_and_summarises(tmp_path: Path) -> None:
    env = {"LEVHAOLAM_DATA_DIR": str(tmp_path / "data")}
    first = run("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert f"Applied {len(discover())} migration(s)" in first.stdout
    assert "support_threads_data" in first.stdout and "Lev Haolam at a glance" in first.stdout
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").is_file()
    # The embedded server stops with the last process that used it: nothing is left running.
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()

    again = run("demo", env=env)
    assert again.returncode == 0, again.stderr
    assert "Database schema is up to date." in again.stdout
    assert "Demo data already present; keeping it" in again.stdout

    refused = run("seed", env=env)
    assert_one_line_error(refused, "already holds data", "levhaolam seed --force")


def test_db_commands_with_database_url(migrated_db: str) -> None:
    env = {"DATABASE_URL": migrated_db}
    migrate = run("db", "migrate", env=env)
    assert migrate.returncode == 0 and "Database schema is up to date." in migrate.stdout
    status = run("db", "status", env=env)
    assert status.returncode == 0 and "0001_domain" in status.stdout and "pending" not in status.stdout


def test_seed_reports_its_time_and_checksum_is_reproducible(migrated_db: str) -> None:
    env = {"DATABASE_URL": migrated_db}
    seeded = run("seed", "--customers", "30", "--tickets", "100", "--seed", "3", "--as-of", "2026-11-28T12:00+00:00",
                 env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "Seeded in" in seeded.stdout and "Database size:" in seeded.stdout
    first = run("db", "checksum", env=env).stdout.strip()
    reseeded = run("seed", "--customers", "30", "--tickets", "100", "--seed", "3", "--as-of",
                   "2026-11-28T12:00+00:00", "--force", env=env)
    assert reseeded.returncode == 0, reseeded.stderr
    assert run("db", "checksum", env=env).stdout.strip() == first
    assert len(first) == 32


def test_rules_shows_the_active_rules_of_a_category(seeded_db: str) -> None:
    result = run("rules", "Skip-Month", env={"DATABASE_URL": seeded_db})
    assert result.returncode == 0
    assert "skip_month (v2)" in result.stdout and "cut-off" in result.stdout


@pytest.mark.parametrize(("env", "fragments"), [
    ({"DATABASE_URL": "mysql://root@localhost/support"}, ("DATABASE_URL: must be a postgresql:// URL",)),
    ({"DATABASE_URL": "postgresql://u@h:notaport/x"}, ("DATABASE_URL: is not a valid PostgreSQL URL",)),
    ({"DATABASE_URL": "postgresql://app:hunter22@127.0.0.1:{port}/support"},
     ("cannot reach the database at 127.0.0.1:", "Connection refused", "check DATABASE_URL")),
], ids=["not-postgres", "bad-port", "unreachable"])
def test_bad_database_settings_give_one_actionable_line(env: dict[str, str], fragments: tuple[str, ...]) -> None:
    env = {k: v.format(port=_closed_port()) for k, v in env.items()}
    result = run("db", "migrate", env=env)
    assert_one_line_error(result, *fragments)
    assert "hunter22" not in result.stderr


def test_a_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run("db", "migrate", env={"LEVHAOLAM_DATA_DIR": str(blocker / "data")})
    assert_one_line_error(result, "cannot create the data directory", "set LEVHAOLAM_DATA_DIR")


def test_an_unknown_category(seeded_db: str) -> None:
    result = run("rules", "refunds", env={"DATABASE_URL": seeded_db})
    assert_one_line_error(result, "unknown category 'refunds'; expected one of: general_question")


def test_a_bad_as_of_date(migrated_db: str) -> None:
    result = run("seed", "--as-of", "yesterday", env={"DATABASE_URL": migrated_db})
    assert_one_line_error(result, "--as-of: 'yesterday' is not an ISO date")


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status":"OK","version":"3.0.0"}' if self.path == "/api/public/health" else b"{}"
        self.send_response(200 if self.path == "/api/public/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def langfuse_stand_in() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_doctor_reports_what_is_configured_and_reachable_without_secrets(migrated_db: str,
                                                                         langfuse_stand_in: str) -> None:
    env = {
        "DATABASE_URL": migrated_db,
        "LANGFUSE_PUBLIC_KEY": "pk-lf-visible-nowhere",
        "LANGFUSE_SECRET_KEY": "sk-lf-super-secret",
        "LANGFUSE_HOST": langfuse_stand_in,
        "CHATWOOT_BASE_URL": f"http://127.0.0.1:{_closed_port()}",
        "CHATWOOT_API_TOKEN": "cw-token-secret",
        "COLUMNS": "250",
    }
    result = run("doctor", env=env)
    assert result.returncode == 0, result.stderr
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 3}
    assert "ok" in lines["database"] and "PostgreSQL 16" in lines["database"]
    assert f"{len(discover())} of {len(discover())} applied" in lines["migrations"]
    assert "ok" in lines["langfuse"] and "reachable" in lines["langfuse"]
    assert "FAIL" in lines["chatwoot"] and "unreachable" in lines["chatwoot"]
    assert "off" in lines["openai"] and "offline" in lines["openai"]
    for secret in ("sk-lf-super-secret", "pk-lf-visible-nowhere", "cw-token-secret"):
        assert secret not in result.stdout + result.stderr


def test_doctor_fails_when_the_database_is_unreachable() -> None:
    result = run("doctor", env={"DATABASE_URL": f"postgresql://u:pw@127.0.0.1:{_closed_port()}/x", "COLUMNS": "250"})
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "Connection refused" in result.stdout


def test_ask_prints_the_answer_and_a_table_and_saves_the_chart(seeded_db: str, tmp_path: Path) -> None:
    result = run("ask", "Which category has the most tickets?", "--chart-dir", str(tmp_path / "charts"),
                 env={"DATABASE_URL": seeded_db, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Category with the most tickets, all data (the last 90 days): ")
    assert "share_pct" in result.stdout
    [chart] = (tmp_path / "charts").glob("*.png")
    assert chart.name == "which-category-has-the-most-tickets.png" and chart.read_bytes()[:4] == b"\x89PNG"


def test_ask_says_when_it_cannot_answer(seeded_db: str, tmp_path: Path) -> None:
    result = run("ask", "What's the weather in Haifa?", "--chart-dir", str(tmp_path),
                 env={"DATABASE_URL": seeded_db})
    assert result.returncode == 0 and result.stdout.startswith("I can't answer that reliably")
    assert not list(tmp_path.glob("*.png"))


def test_knowledge_ingest_reports_a_bad_file_and_lands_the_rest(migrated_db: str, tmp_path: Path) -> None:
    (tmp_path / "faq.md").write_text("## Do you ship on Fridays?\nNo, boxes ship Sunday to Thursday.\n")
    (tmp_path / "broken.json").write_text("{not json")
    result = run("knowledge", "ingest", str(tmp_path), env={"DATABASE_URL": migrated_db, "COLUMNS": "250"})
    assert result.returncode == 1
    assert "faq" in result.stdout and "added" in result.stdout and "invalid JSON" in result.stdout
    assert result.stderr.strip() == "error: 1 file(s) could not be ingested (see above); the others landed"
    again = run("knowledge", "ingest", str(tmp_path / "faq.md"), env={"DATABASE_URL": migrated_db, "COLUMNS": "250"})
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_knowledge_ingest_bad_arguments(migrated_db: str, tmp_path: Path) -> None:
    missing = run("knowledge", "ingest", str(tmp_path / "nope"), env={"DATABASE_URL": migrated_db})
    assert_one_line_error(missing, "does not exist")
    wrong_ns = run("knowledge", "ingest", str(tmp_path), "--namespace", "recipes", env={"DATABASE_URL": migrated_db})
    assert_one_line_error(wrong_ns, "--namespace: 'recipes' is not one of faq")


def test_doctor_says_pinecone_needs_the_index_host(migrated_db: str) -> None:
    result = run("doctor", env={"DATABASE_URL": migrated_db, "PINECONE_API_KEY": "pcsk-secret-value",
                                "COLUMNS": "250"})
    assert result.returncode == 0
    line = next(line for line in result.stdout.splitlines() if "pinecone" in line)
    assert "FAIL" in line and "PINECONE_INDEX_HOST is not" in line and "pcsk-secret-value" not in result.stdout


def test_serve_stops_the_embedded_postgres_when_terminated(tmp_path: Path) -> None:
    import signal
    import time

    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "LEVHAOLAM_DATA_DIR": str(tmp_path), "LEVHAOLAM_JWT_SECRET": "s" * 40}
    process = subprocess.Popen([LEVHAOLAM, "serve", "customers", "--transport", "http", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    pid_file = tmp_path / "pgdata" / "postmaster.pid"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the server did not start listening")
        assert pid_file.exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
        leaked = pid_file.exists()
        if leaked:  # stop it anyway: tests leave nothing running, even when they fail
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
    assert not leaked, "the embedded PostgreSQL was still running"


def customer_types(monkeypatch: pytest.MonkeyPatch, typed_lines: list[str]) -> None:
    """`levhaolam chat`'s prompt reads these lines, then the end of input (as a terminal's Ctrl-D)."""
    lines = iter(typed_lines)

    def typed(_prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", typed)


async def test_chat_answers_a_bad_photo_url_in_one_line_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from io import StringIO

    from rich.console import Console

    from levhaolam.chat import converse
    from schemas.categories import Category
    from schemas.turns import Decision, TurnRequest, TurnResponse

    customer_types(monkeypatch, ["/photo ftp://example.com/x.jpg", "hello"])
    sent: list[TurnRequest] = []

    async def turn(request: TurnRequest) -> TurnResponse:
        sent.append(request)
        return TurnResponse(reply="hi", decision=Decision.AUTO_SEND, category=Category.GENERAL_QUESTION,
                            trace_id="t")

    out = StringIO()
    await converse(turn, Console(file=out, width=200))
    shown = out.getvalue()
    assert "not sent: attachments.0.url: URL scheme should be 'http' or 'https'" in shown
    assert "Traceback" not in shown and [r.text for r in sent] == ["hello"]


async def test_chat_sends_a_numbered_choice_as_the_button_value_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # As the bridge does: a title sent as text would be routed by its wording ("20% off the next box" is no skip).
    from io import StringIO

    from rich.console import Console

    from levhaolam.chat import converse
    from schemas.categories import Category
    from schemas.turns import Button, Decision, TurnRequest, TurnResponse

    customer_types(monkeypatch, ["Quiero cancelar mi suscripción", "2", "7", "1"])
    offers = [Button(title="Skip the next box instead", value="offer:0"),
              Button(title="20% off the next box, once", value="offer:1"),
              Button(title="Cancel anyway", value="cancel_anyway")]
    sent: list[TurnRequest] = []

    async def turn(request: TurnRequest) -> TurnResponse:
        sent.append(request)
        return TurnResponse(reply="Antes de decidir...", buttons=offers if len(sent) == 1 else [],
                            decision=Decision.AUTO_SEND, category=Category.CANCEL_SUBSCRIPTION, trace_id="t")

    await converse(turn, Console(file=StringIO(), width=200))
    assert [(r.text, r.button_value) for r in sent] == [
        ("Quiero cancelar mi suscripción", None), (None, "offer:1"),
        ("7", None),  # no such button: what was typed is the message
        ("1", None)]  # the last reply listed no buttons


def _one_connection_server(behaviour: str) -> tuple[int, threading.Thread]:
    """A port that accepts one connection and then resets it ('reset') or never answers ('silent')."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                if behaviour == "reset":  # linger 0: close sends RST, as a crashed server's kernel does
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                else:
                    conn.settimeout(10)
                    with contextlib.suppress(OSError):
                        conn.recv(65536)
                        conn.recv(65536)  # until the client gives up and closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


CHAT_ENV = {"LEVHAOLAM_SERVICE_TOKEN": "t" * 40}


def test_chat_with_no_orchestrator_listening_says_so_in_one_line() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert_one_line_error(run("chat", "--api", url, env=CHAT_ENV), f"cannot reach the orchestrator at {url}: ")


def test_chat_with_a_connection_reset_says_so_in_one_line() -> None:
    port, thread = _one_connection_server("reset")
    result = run("chat", "--api", f"http://127.0.0.1:{port}", env=CHAT_ENV)
    thread.join(timeout=10)
    assert_one_line_error(result, f"cannot reach the orchestrator at http://127.0.0.1:{port}: ")


def test_chat_with_an_orchestrator_that_does_not_answer_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    from typer.testing import CliRunner

    from levhaolam import cli

    monkeypatch.setattr(cli, "CHAT_TIMEOUT_S", 0.5)
    port, thread = _one_connection_server("silent")
    result = CliRunner().invoke(cli.app, ["chat", "--api", f"http://127.0.0.1:{port}"], env=CHAT_ENV)
    thread.join(timeout=10)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == f"error: cannot reach the orchestrator at http://127.0.0.1:{port}: no answer " \
                                    "within 0.5 s"


def test_serve_orchestrator_without_the_mcp_servers_says_how_to_start_them(migrated_db: str) -> None:
    template = f"http://127.0.0.1:{_closed_port()}/{{server}}/mcp"
    result = run("serve", "orchestrator", "--port", str(_closed_port()),
                 env={"DATABASE_URL": migrated_db, "LEVHAOLAM_MCP_URL_TEMPLATE": template,
                      "LEVHAOLAM_SERVICE_TOKEN": "t" * 40, "LEVHAOLAM_JWT_SECRET": "s" * 40})
    assert_one_line_error(result, "cannot reach the ", " MCP server at " + template.split("{")[0],
                          "start the servers first: levhaolam serve ", " --transport http, or levhaolam up")


def test_costs_for_a_backwards_period_says_so_instead_of_an_empty_table() -> None:
    # Refused before any database is opened: no DATABASE_URL or data directory is needed to see it.
    result = run("costs", "--since", "2026-12-01", "--until", "2026-11-01")
    assert_one_line_error(result, "--since (2026-12-01 00:00) must be before --until (2026-11-01 00:00)")
