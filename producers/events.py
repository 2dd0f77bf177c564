"""The documented shape of each stream's events, as pydantic models.

Generators build plain dicts for speed; these models are the contract: the JSON Schemas in ``producers/schemas``
are generated from them (``python -m producers.schemas``) and tests check generated events against them.
Every event has ``event_id``, ``event_type`` and ``event_time`` (ISO-8601 UTC, milliseconds, ``Z``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ISO_MILLIS_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


class BaseEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: str = Field(min_length=1, description="Unique within a run; reproducible with the seed.")
    event_time: str = Field(pattern=ISO_MILLIS_PATTERN, description="When it happened: ISO-8601 UTC, ms, 'Z'.")


class ClickstreamEvent(BaseEvent):
    """One action of a web-shop user inside a session. Stream ``clickstream``, partition key ``user_id``."""

    model_config = ConfigDict(title="clickstream event")

    event_type: Literal["page_view", "click", "add_to_cart", "purchase", "error"]
    user_id: str = Field(description="Partition key.")
    session_id: str
    url: str
    referrer: str = Field(description="Empty for direct traffic.")
    device: str = Field(description="User-agent string of the browser.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    product_id: str | None = Field(description="Product viewed, clicked, added or (last) bought; null otherwise.")
    price: float | None = Field(ge=0, description="Unit price on add_to_cart, order total on purchase, else null.")
    status_code: int = Field(ge=100, le=599, description="HTTP status: 200, or 4xx/5xx on error events.")


class GameEvent(BaseEvent):
    """One step of a player's match. Stream ``game-events``, partition key ``player_id``."""

    model_config = ConfigDict(title="game event")

    event_type: Literal["match_start", "score", "level_up", "match_end"]
    player_id: str = Field(description="Partition key.")
    match_id: str
    level: int = Field(ge=1)
    points: int = Field(ge=0, description="Points scored by this event (0 except on score events).")
    platform: Literal["ios", "android"]


class IotEvent(BaseEvent):
    """A report of one device. Stream ``iot-telemetry``, partition key ``device_id``.

    Readings carry all four measurements; heartbeats carry only ``battery``.
    """

    model_config = ConfigDict(title="iot event")

    event_type: Literal["reading", "heartbeat"]
    device_id: str = Field(description="Partition key.")
    site: str
    firmware: str
    temperature: float | None = Field(default=None, description="°C; readings only.")
    humidity: float | None = Field(default=None, ge=0, le=100, description="% relative humidity; readings only.")
    pressure: float | None = Field(default=None, description="hPa; readings only.")
    battery: float = Field(ge=0, le=100, description="%.")


EVENT_MODELS: dict[str, type[BaseEvent]] = {
    "clickstream": ClickstreamEvent,
    "game": GameEvent,
    "iot": IotEvent,
}
