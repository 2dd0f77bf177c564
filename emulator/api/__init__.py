"""The leaderboard API and the live page: FastAPI over the analytics engine's output topics."""

from emulator.api.consumer import ResultsConsumer
from emulator.api.main import create_app
from emulator.api.resources import ApiConfig, ApiResources
from emulator.api.streams import StreamsInspector
from emulator.api.view import ResultsView
from emulator.endpoints import S3Target

__all__ = ["ApiConfig", "ApiResources", "ResultsConsumer", "ResultsView", "S3Target", "StreamsInspector", "create_app"]
