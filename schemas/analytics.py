"""Inputs and outputs of the analytics server's tools."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ColumnInfo(BaseModel):
    name: str
    type: str = Field(description="PostgreSQL type, from the live schema")
    meaning: str | None = Field(default=None, description="What the column means, units and caveats")


class TableInfo(BaseModel):
    name: str
    description: str
    row_count_estimate: int | None = None
    columns: list[ColumnInfo] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)


class TableList(BaseModel):
    tables: list[TableInfo]


class BusinessRule(BaseModel):
    name: str
    definition: str
    sql: str | None = Field(default=None, description="How to compute it")
    notes: list[str] = Field(default_factory=list)


class BusinessRules(BaseModel):
    rules: list[BusinessRule]
    category_rules: dict[str, str] = Field(description="Active rules per support category (institutional knowledge)")


class QueryParam(BaseModel):
    name: str
    type: Literal["timestamptz", "int", "category", "channel"]
    description: str
    default: str | None = None


class SavedQuery(BaseModel):
    name: str
    description: str
    params: list[QueryParam]
    chart: dict[str, str] | None = Field(default=None, description="kind, x and y of the natural chart")
    sql: str


class SavedQueryList(BaseModel):
    queries: list[SavedQuery]


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int = Field(description="Rows returned here")
    truncated: bool = Field(description="True when more rows existed than max_rows; only the first are shown")
    note: str | None = None
    elapsed_ms: float


class Learning(BaseModel):
    id: int
    question: str
    mistake: str
    fix: str
    sql: str | None = None
    tags: list[str] = Field(default_factory=list)


class LearningList(BaseModel):
    learnings: list[Learning]


class KeyFigure(BaseModel):
    label: str
    value: float | str


class Answer(BaseModel):
    question: str
    answered: bool
    answer: str = Field(description="Plain-language answer with the numbers, or why it cannot be answered")
    key_figure: KeyFigure | None = None
    query: str | None = Field(default=None, description="The vetted query used, or 'sql' for generated SQL")
    params: dict[str, Any] = Field(default_factory=dict)
    period: str | None = None
    result: QueryResult | None = None
    chart: dict[str, Any] | None = Field(default=None, description="Vega-Lite spec of the answer's chart")
    method: Literal["offline", "model"] = "offline"
