"""The model-driven brain: an openai-agents agent assembled per turn from the category's configuration, connected
to the turn's leased MCP servers and shown only its category's tools. The same code drives OpenAI models and Claude
(through `anthropic_model.AnthropicModel`).

An action tool answering `confirmation_required` ends the run at once: the proposal goes to the customer as a
question and the model never sees the token. Every tool output of the run is kept as evidence for the output guard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, Model, ModelSettings, RunConfig, RunContextWrapper, Runner
from agents.agent import ToolsToFinalOutputResult
from agents.exceptions import ModelRefusalError
from agents.items import ToolCallItem, ToolCallOutputItem
from agents.tool import FunctionToolResult
from openai.types.shared import Reasoning

import telemetry
from orchestrator import prompts
from orchestrator.brain import BrainInput, BrainReply, Proposal, proposal_from
from orchestrator.categories import ReasoningEffort
from orchestrator.costs import note_evidence
from orchestrator.memory import offers_mentioned
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


def _tool_outputs(items: list[Any]) -> list[tuple[str, str]]:
    """(tool name, output text) of every tool call of the run, in order."""
    names: dict[str, str] = {}
    found: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, ToolCallItem):
            call = item.raw_item
            call_id = call.get("call_id") if isinstance(call, dict) else getattr(call, "call_id", None)
            name = call.get("name") if isinstance(call, dict) else getattr(call, "name", None)
            if call_id and name:
                names[str(call_id)] = str(name)
        elif isinstance(item, ToolCallOutputItem):
            answer = item.raw_item
            call_id = answer.get("call_id") if isinstance(answer, dict) else getattr(answer, "call_id", None)
            output = item.output if isinstance(item.output, str) else json.dumps(item.output, default=str)
            found.append((names.get(str(call_id), "tool"), output))
    return found


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
                                              rules.data.get("instructions") if rules.ok else None, examples,
                                              memory=(await turn.customer_memory()).prompt_lines(),
                                              lessons=[(lesson.draft, lesson.sent_text, lesson.lesson)
                                                       for lesson in await turn.lessons()]),
            mcp_servers=list(turn.tools.connections.values()), tool_use_behavior=stop_at_confirmation)
        context = AgentRunContext(allowed_tools=set(turn.tools.allowed))
        try:
            result = await Runner.run(agent, turn.text or "(the customer sent attachments)", context=context,
                                      max_turns=MAX_TURNS,
                                      run_config=RunConfig(tracing_disabled=not telemetry.exporting(),
                                                           workflow_name=f"turn.{turn.category}"))
        except ModelRefusalError:
            return BrainReply(say("holding", turn.language), gave_up="model_refused", model=self.model_name)
        outputs = _tool_outputs(result.new_items)
        for tool, output in outputs:
            note_evidence(tool, output)
        if context.proposals:
            proposal: Proposal = proposal_from(context.proposals[0], turn.category)
            return BrainReply(say("confirm", turn.language, summary=proposal.summary.rstrip(".")), proposal=proposal,
                              model=self.model_name)
        text = str(result.final_output or "").strip()
        if not text:
            return BrainReply(say("holding", turn.language), gave_up="model_no_answer", model=self.model_name)
        offered = [offer for tool, output in outputs if tool == "get_retention_offers"
                   for offer in _json(output).get("offers", []) if isinstance(offer, dict)]
        made = offers_mentioned(text, offered)
        # Once an offer is on the table the conversation is in retention mode: its next turns use the retention model.
        return BrainReply(text, model=self.model_name, free_text=True, offers_made=made,
                          remember={"retention_offered": True} if made else {})
