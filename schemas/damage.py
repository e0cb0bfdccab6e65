"""Inputs and outputs of the damage server's tools."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.domain import DamageType


class ClaimItemInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(pattern=r"^[A-Z0-9-]{3,32}$", description="The product code from get_order_history")
    quantity: int = Field(default=1, ge=1, le=20)
    damage_type: DamageType


class PhotoUploadInstructions(BaseModel):
    claim_id: int
    upload_url: str
    accepted_types: list[str]
    photos_needed: int
    photos_received: int
    instructions: str
