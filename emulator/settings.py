"""The one settings object of the application, read once at the edge.

Values come, in order of precedence, from: keyword arguments (the CLI's flags), environment variables with the
``KEMU_`` prefix (nested fields use ``__``: ``KEMU_KAFKA__BOOTSTRAP_SERVERS``), an optional TOML file (``--config``
or ``KEMU_CONFIG``), then the defaults below. Libraries never read this: the composition root passes typed values
down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from analytics.config import AnalyticsConfig
from emulator.config.api import ServingSettings
from emulator.config.demo import DemoSettings
from emulator.config.kinesis import KinesisSettings
from emulator.config.sinks import SinksSettings
from emulator.logs import LogFormat

#: The Kafka release the embedded launcher runs and the compose file pins (aiokafka 0.14's idempotent and
#: transactional producer were checked against it).
KAFKA_VERSION = "4.1.1"
#: log4j2 release that Kafka 4.1's own distribution ships; the Maven POM leaves the binding out.
KAFKA_LOG4J_VERSION = "2.24.3"
#: MinIO has no semver tags and its repository is archived: this is the newest commit the Go proxy serves.
MINIO_MODULE_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "kemu"


class KafkaSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``host:port[,host:port]`` of an existing cluster; empty means the embedded broker of ``kemu services``.
    bootstrap_servers: str | None = None


class S3Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``http(s)://host:port`` of an S3 API; empty means the embedded MinIO of ``kemu services``.
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    region: str = "us-east-1"
    bucket: str = Field(default="kemu", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ServicesSettings(BaseModel):
    """Where and how the embedded Kafka and MinIO are provisioned and run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cache_dir: Path = Field(default_factory=default_cache_dir)
    #: Data, logs and the address file of the running services; ``<cache_dir>/run`` when empty.
    run_dir: Path | None = None
    kafka_version: str = KAFKA_VERSION
    kafka_log4j_version: str = KAFKA_LOG4J_VERSION
    kafka_heap_mb: int = Field(default=512, ge=256, le=16384)
    minio_module_version: str = MINIO_MODULE_VERSION
    #: Seconds to wait for a started service to answer before giving up.
    start_timeout_s: float = Field(default=60.0, gt=0)


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


class Settings(BaseSettings):
    """Everything ``kemu`` can be told. Build it with :meth:`load` in an entry point, then pass parts down."""

    model_config = SettingsConfigDict(
        env_prefix="KEMU_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    kafka: KafkaSettings = KafkaSettings()
    s3: S3Settings = S3Settings()
    services: ServicesSettings = ServicesSettings()
    api: ApiSettings = ApiSettings()
    kinesis: KinesisSettings = KinesisSettings()
    serving: ServingSettings = ServingSettings()
    sinks: SinksSettings = SinksSettings()
    demo: DemoSettings = DemoSettings()
    analytics: AnalyticsConfig = AnalyticsConfig()
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    #: ``console`` for people, ``json`` (one object a line on stderr) for log collectors.
    log_format: LogFormat = "console"

    _toml_file: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_file))
        return tuple(sources)

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Read the environment and the optional TOML file once; ``overrides`` win over both."""
        if config_file is not None and not config_file.is_file():
            raise FileNotFoundError(f"config file {config_file} does not exist")
        cls._toml_file = config_file
        try:
            return cls(**overrides)
        finally:
            cls._toml_file = None
