"""Span attribute names: the OpenTelemetry GenAI semantic conventions where they exist, Langfuse's where Langfuse
reads its own, and ours (`levhaolam.*`) for what neither names."""

from __future__ import annotations

# OpenTelemetry GenAI conventions.
OPERATION = "gen_ai.operation.name"  # chat | invoke_agent | execute_tool
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
AGENT_NAME = "gen_ai.agent.name"
CONVERSATION_ID = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
TOOL_TYPE = "gen_ai.tool.type"
REASONING_EFFORT = "gen_ai.request.reasoning_effort"
ERROR_TYPE = "error.type"

# Langfuse (read from any span; see langfuse._client.attributes).
TRACE_NAME = "langfuse.trace.name"
SESSION_ID = "session.id"
USER_ID = "user.id"
TRACE_TAGS = "langfuse.trace.tags"
TRACE_METADATA = "langfuse.trace.metadata"
OBSERVATION_TYPE = "langfuse.observation.type"  # span | generation | agent | tool | guardrail | evaluator | chain
OBSERVATION_INPUT = "langfuse.observation.input"
OBSERVATION_OUTPUT = "langfuse.observation.output"
OBSERVATION_LEVEL = "langfuse.observation.level"
OBSERVATION_MODEL = "langfuse.observation.model.name"
USAGE_DETAILS = "langfuse.observation.usage_details"
COST_DETAILS = "langfuse.observation.cost_details"

# Ours.
CHANNEL = "levhaolam.channel"
MESSAGE_ID = "levhaolam.message_id"
CATEGORY = "levhaolam.category"
SECONDARY = "levhaolam.secondary"
URGENCY = "levhaolam.urgency"
CONFIDENCE = "levhaolam.router.confidence"
LANGUAGE = "levhaolam.language"
DECISION = "levhaolam.gate.decision"
REASONS = "levhaolam.gate.reasons"
COST_USD = "levhaolam.cost_usd"
REPLAYED = "levhaolam.replayed"
ACTIONS = "levhaolam.actions"
IDENTIFIED = "levhaolam.customer.identified"
SERVER = "levhaolam.mcp.server"
OUTCOME = "levhaolam.tool.outcome"  # ok | confirmation_required | executed | <error code>
LATENCY_MS = "levhaolam.latency_ms"
GAVE_UP = "levhaolam.brain.gave_up"
PROPOSAL = "levhaolam.brain.proposal"
AWAITING = "levhaolam.brain.awaiting"
