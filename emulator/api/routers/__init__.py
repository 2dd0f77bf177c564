"""The API's routers, one per concern."""

from emulator.api.routers import alerts, health, leaderboards, metrics, page, pipeline, streams

__all__ = ["alerts", "health", "leaderboards", "metrics", "page", "pipeline", "streams"]
