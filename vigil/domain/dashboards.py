"""Saved custom dashboards: a name and an ordered list of explorer panels.

A panel is exactly the explorer's URL state (metric, agg, host, labels, group_by, range or from/to,
chart type), so a saved panel and a shared explorer link mean the same thing. Pydantic only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.limits import METRIC_NAME_RE

MAX_PANELS = 24


class Panel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(pattern=METRIC_NAME_RE.pattern)
    title: str | None = Field(default=None, max_length=120)
    agg: str = Field(default="avg", pattern=r"^[a-z0-9]{1,12}$")
    host: str = Field(default="", max_length=2000)
    labels: str = Field(default="", max_length=2000)
    group_by: str = Field(default="", max_length=200)
    range: str = Field(default="24h", pattern=r"^(1h|6h|24h|7d|30d|365d|custom)$")
    from_: str | None = Field(default=None, alias="from", max_length=64)
    to: str | None = Field(default=None, max_length=64)
    type: Literal["line", "area", "bar"] = "line"


class DashboardIn(BaseModel):
    """Body of `POST /api/dashboards` and `PUT /api/dashboards/{id}`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    panels: list[Panel] = Field(default_factory=list, max_length=MAX_PANELS)


class Dashboard(DashboardIn):
    id: str
    created_at: str
    updated_at: str
    version: int
