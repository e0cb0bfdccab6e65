"""What the router decides about one incoming message."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from schemas.categories import Category, Urgency

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code, e.g. 'en', 'he', 'ru'")]


class RouterOutput(BaseModel):
    """Structured output of the router: one primary intent, at most one secondary, urgency, email."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: Category
    secondary: Category | None = None
    urgency: Urgency = Urgency.MEDIUM
    email: EmailStr | None = None
    language: LanguageCode = "en"
    confidence: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _secondary_differs(self) -> RouterOutput:
        if self.secondary is not None and self.secondary == self.primary:
            raise ValueError("secondary must differ from primary (leave it empty for a single intent)")
        return self
