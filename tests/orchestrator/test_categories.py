"""categories.toml: the reviewed starting configuration, and clear refusals of a bad one."""

from __future__ import annotations

import pytest

from orchestrator.categories import CONFIG_PATH, CategoryConfigError, load_categories, parse_categories
from schemas.categories import Category
from schemas.services import McpServer
from schemas.turns import Decision


def test_the_configuration_follows_the_product_brief() -> None:
    categories = load_categories()
    assert categories[Category.GENERAL_QUESTION].model == "gpt-5.1"
    assert categories[Category.GENERAL_QUESTION].reasoning_effort == "none"
    assert categories[Category.PAYMENT_ISSUE].reasoning_effort == "medium"
    assert categories[Category.CANCEL_SUBSCRIPTION].model.startswith("claude-sonnet-4")
    assert categories[Category.PAUSE_SUBSCRIPTION].retention_model.startswith("claude-sonnet-4")
    assert categories[Category.OTHER].model == "gpt-5.2"
    assert categories[Category.PAYMENT_ISSUE].gate.mode is Decision.DRAFT


def test_only_action_categories_may_change_things() -> None:
    categories = load_categories()
    assert "cancel_subscription" not in categories[Category.SKIP_MONTH].tool_names
    assert categories[Category.GENERAL_QUESTION].servers == [McpServer.KNOWLEDGE]
    assert categories[Category.DAMAGED_ITEM].server_of("attach_photo") is McpServer.DAMAGE


def test_a_tool_no_server_has_is_refused_with_the_category_and_the_alternatives() -> None:
    categories = load_categories()
    listed = {server: set(tools) for server, tools in {
        McpServer.KNOWLEDGE: ["search_knowledge", "get_examples", "get_category_instructions"],
        McpServer.SUBSCRIPTIONS: ["list_subscriptions", "get_subscription"]}.items()}
    with pytest.raises(CategoryConfigError, match=r"skip_month: subscriptions has no tool 'skip_month' \(it has: "
                                                  r"get_subscription, list_subscriptions\)"):
        categories.check_tools_exist(listed)


@pytest.mark.parametrize(("edit", "message"), [
    (("gate = { mode = \"auto_send\", min_confidence = 0.45 }", "gate = { mode = \"yolo\", min_confidence = 0.45 }"),
     "categories.general_question.gate.mode"),
    (("knowledge_namespace = \"faq\"", "knowledge_namespace = \"recipes\""), "knowledge_namespace 'recipes'"),
    (("[categories.other]", "[categories.others]"), "categories.others"),
    (("reasoning_effort = \"none\"", "reasoning_effort = \"extreme\""), "reasoning_effort"),
    (("tools = { knowledge = [", "tools = { kitchen = ["), "tools.kitchen"),
])
def test_a_bad_configuration_names_where_and_why(edit: tuple[str, str], message: str) -> None:
    text = CONFIG_PATH.read_text().replace(*edit, 1)
    with pytest.raises(CategoryConfigError, match=message.replace("(", r"\(")):
        parse_categories(text)


def test_broken_toml_is_refused_clearly() -> None:
    with pytest.raises(CategoryConfigError, match="not valid TOML"):
        parse_categories("[router\nmodel = 1")
