"""The model-driven brain: an openai-agents agent assembled per turn from the category's configuration, connected
to the turn's leased MCP servers and shown only its category's tools.

An action tool answering `confirmation_required` ends the run at once: the proposal goes to the customer as a
question and the model never sees the token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, Model, ModelSettings, RunConfig, RunContextWrapper, Runner
from agents.agent import ToolsToFinalOutputResult
from agents.tool import FunctionToolResult
from openai.types.shared import Reasoning

import telemetry
from orchestrator import prompts
from orchestrator.brain import BrainInput, BrainReply, Proposal, proposal_from
from orchestrator.categories import ReasoningEffort
from orchestrator.replies import say
from orchestrator.tools import ToolOutcome

MAX_TURNS = 8


@dataclass
class AgentRunContext:
    """What the tool filter and the stop rule see during one run."""

    allowed_tools: set[str]
    proposals: list[ToolOutcome] = field(default_factory=list)


def stop_at_confirmation(context: RunContextWrapper[AgentRunContext], results: list[FunctionToolResult]
                         ) -> ToolsToFinalOutputResult:
    for result in results:
        data = _json(result.output)
        if data.get("status") == "confirmation_required" and data.get("confirmation_token"):
            context.context.proposals.append(ToolOutcome(result.tool.name, data))
            return ToolsToFinalOutputResult(is_final_output=True, final_output="")
    return ToolsToFinalOutputResult(is_final_output=False)


def _json(output: Any) -> dict[str, Any]:
    if isinstance(output, dict):
        return output
    try:
        parsed = json.loads(str(output))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class ModelBrain:
    def __init__(self, model: Model, model_name: str, effort: ReasoningEffort) -> None:
        self.model = model
        self.model_name = model_name
        self.settings = ModelSettings(reasoning=Reasoning(effort=effort.value)) if effort is not ReasoningEffort.NONE \
            else ModelSettings()

    async def handle(self, turn: BrainInput) -> BrainReply:
        rules = await turn.tools.call("get_category_instructions", category=turn.category.value)
        found = await turn.tools.call("get_examples", category=turn.category.value, query=turn.text[:500] or "help",
                                      k=3)
        examples = [(e["question"], e["answer"]) for e in found.data.get("examples", [])] if found.ok else []
        agent = Agent(
            name=turn.category.value, model=self.model, model_settings=self.settings,
            instructions=prompts.instructions(turn.category, turn.customer_id, turn.language,
                                              rules.data.get("instructions") if rules.ok else None, examples),
            mcp_servers=list(turn.tools.connections.values()), tool_use_behavior=stop_at_confirmation)
        context = AgentRunContext(allowed_tools=set(turn.tools.allowed))
        result = await Runner.run(agent, turn.text or "(the customer sent attachments)", context=context,
                                  max_turns=MAX_TURNS,
                                  run_config=RunConfig(tracing_disabled=not telemetry.exporting(),
                                                       workflow_name=f"turn.{turn.category}"))
        if context.proposals:
            proposal: Proposal = proposal_from(context.proposals[0], turn.category)
            return BrainReply(say("confirm", turn.language, summary=proposal.summary.rstrip(".")), proposal=proposal,
                              model=self.model_name)
        return BrainReply(str(result.final_output or "").strip(), model=self.model_name)
