"""The support policy's numbers, read from the ```toml block at the end of docs/policy.md."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

_EU = {"IE", "DE", "FR", "NL", "BE", "AT", "CH", "IT", "ES", "PT", "SE", "NO", "DK", "FI", "PL", "CZ"}
_REGION_OF = {"IL": "IL", "GB": "UK", "US": "NA", "CA": "NA", "AU": "OC", "NZ": "OC"} | {c: "EU" for c in _EU}


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cutoff_day: int = Field(ge=1, le=28)
    ship_day: int = Field(ge=1, le=28)
    pause_months_allowed: list[int]
    max_skips_per_12_months: int = Field(ge=0)
    missing_package_grace_days: int = Field(ge=0)
    damage_report_window_days: int = Field(ge=1)
    damage_min_photos: int = Field(ge=0)
    store_credit_percent: int = Field(ge=100)
    refund_human_approval_above_usd_cents: int = Field(ge=0)
    cancel_link_valid_hours: int = Field(ge=1)
    retention_discount_percent: int = Field(ge=0, le=100)
    confirmation_valid_minutes: int = Field(ge=1)
    supported_countries: list[str]
    currencies: list[str]
    delivery_days: dict[str, tuple[int, int]]

    def region_of(self, country_code: str) -> str:
        return _REGION_OF.get(country_code.upper(), "ROW")

    def delivery_window(self, country_code: str) -> tuple[int, int]:
        return self.delivery_days[self.region_of(country_code)]

    def next_open_box(self, today: date) -> date:
        """The first box month that can still be changed (its cut-off has not passed)."""
        box = month_add(today, 1)
        return box if today <= self.cutoff_for(box) else month_add(today, 2)

    def ship_date(self, box_month: date) -> date:
        return box_month.replace(day=self.ship_day)

    def cutoff_for(self, box_month: date) -> date:
        """The last day a change can still affect `box_month`: the cut-off day of the month before."""
        year, month = (box_month.year, box_month.month - 1) if box_month.month > 1 else (box_month.year - 1, 12)
        return date(year, month, self.cutoff_day)


def month_add(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s month."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


_TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def _policy_file() -> Path:
    # In a source checkout the policy lives in docs/; an installed wheel carries a copy beside this module.
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "docs" / "policy.md", here / "policy.md"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("docs/policy.md not found next to the schemas package")


def parse_policy(markdown: str) -> Policy:
    blocks = _TOML_BLOCK.findall(markdown)
    if len(blocks) != 1:
        raise ValueError(f"policy.md must contain exactly one ```toml block, found {len(blocks)}")
    return Policy.model_validate(tomllib.loads(blocks[0]))


@lru_cache(maxsize=1)
def load_policy() -> Policy:
    return parse_policy(_policy_file().read_text(encoding="utf-8"))
