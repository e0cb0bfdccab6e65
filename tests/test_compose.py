"""The production topology in compose/: valid against the Compose Specification, and in step with the code (ports,
service names, every setting documented, every package in the image)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from schemas.services import BRIDGE_PORT, DEFAULT_PORTS, ORCHESTRATOR_PORT, McpServer
from schemas.settings import environment_variables
from tests.helpers import ROOT

COMPOSE = ROOT / "compose" / "docker-compose.yml"
# From github.com/compose-spec/compose-spec, schema/compose-spec.json at commit 170098ba (2026-06-23).
SCHEMA = Path(__file__).with_name("fixtures") / "compose-spec.json"


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_follows_the_compose_specification() -> None:
    jsonschema.validate(compose(), json.loads(SCHEMA.read_text()))


def test_a_broken_compose_file_is_caught_by_the_schema() -> None:
    broken = compose()
    broken["services"]["orchestrator"]["depends_on"] = {"customers": {"condition": "whenever"}}
    try:
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted an unknown depends_on condition")


def _command(service: str) -> list[str]:
    return [str(part) for part in compose()["services"][service]["command"]]


def test_every_mcp_server_is_a_service_on_its_port_and_path() -> None:
    for server in McpServer:
        command = _command(server.value)
        assert command[:3] == ["levhaolam", "serve", server.value]
        assert command[command.index("--port") + 1] == str(DEFAULT_PORTS[server])
        health = str(compose()["services"][server.value]["healthcheck"])
        assert f"http://127.0.0.1:{DEFAULT_PORTS[server]}/mcp" in health
    template = compose()["x-platform"]["environment"]["LEVHAOLAM_MCP_URL_TEMPLATE"]
    assert template.format(server="customers", port=8101) == "http://customers:8101/mcp"


def test_the_orchestrator_and_the_bridge_agree_with_the_code() -> None:
    assert _command("orchestrator")[-1] == str(ORCHESTRATOR_PORT)
    assert compose()["x-platform"]["environment"]["LEVHAOLAM_ORCHESTRATOR_URL"] == f"http://orchestrator:{ORCHESTRATOR_PORT}"
    assert _command("bridge")[-1] == str(BRIDGE_PORT)
    assert _command("bridge-worker") == ["levhaolam", "serve", "bridge-worker"]


def test_every_variable_is_documented() -> None:
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / "compose" / ".env.example").read_text(), re.M))
    documented |= set(environment_variables().values())
    assert used - documented == set()
    platform_env = set(compose()["x-platform"]["environment"])
    assert platform_env <= set(environment_variables().values()), platform_env - set(environment_variables().values())


def test_the_image_contains_every_package() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "packages"]
    copied = re.findall(r"^COPY (\w+) \1$", (ROOT / "compose" / "Dockerfile").read_text(), re.M)
    assert sorted(packages) == sorted(set(copied) - {"docs"})
