"""Inputs and outputs of the knowledge server's tools."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.categories import Category

AREA_NAMESPACES = ("faq", "shipping", "retention", "damage", "payments", "subscription")


def examples_namespace(category: Category) -> str:
    return f"examples/{category.value}"


class Passage(BaseModel):
    id: int
    namespace: str
    source: str
    title: str
    content: str
    score: float = Field(description="Reciprocal-rank-fusion score of the vector and full-text rankings")
    vector_rank: int | None = Field(default=None, description="Rank among vector matches (1 = closest)")
    text_rank: int | None = Field(default=None, description="Rank among full-text matches")
    language: str = Field(default="en", description="Language of the passage (a translation of the English FAQ)")


class SearchResult(BaseModel):
    query: str
    namespace: str
    language: str = Field(default="en", description="The language searched first (English fills the rest)")
    passages: list[Passage]


class Example(BaseModel):
    question: str
    answer: str
    category: Category
    source_ticket: int | None
    score: float


class ExampleList(BaseModel):
    category: Category
    examples: list[Example]


class CategoryInstructions(BaseModel):
    category: Category
    version: int
    instructions: str
    created_by: str
    created_at: datetime


class NamespaceInfo(BaseModel):
    name: str
    passages: int
    sources: int


class NamespaceList(BaseModel):
    namespaces: list[NamespaceInfo]
