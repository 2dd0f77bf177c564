"""Where Kafka and S3 are, resolved in one place for every command, ``kemu up``'s children and the benchmarks.

The rule, everywhere: what the settings name (``KEMU_KAFKA__BOOTSTRAP_SERVERS``, ``KEMU_S3__*`` with both keys), else
the running embedded services of ``kemu services`` (their addresses, and the MinIO keys they generated), else one
clear error that says how to get them. Light on purpose (no FastAPI, no Kafka client): every command imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from emulator.exceptions import ServicesNotRunningError
from emulator.services import LocalServices, Reporter, ServicesState
from emulator.settings import S3Settings, Settings

if TYPE_CHECKING:
    from sinks import S3Connection


@dataclass(frozen=True)
class S3Target:
    """An S3 endpoint with its credentials and the bucket the emulator writes to."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: SecretStr
    bucket: str
    region: str = "us-east-1"

    @classmethod
    def configured(cls, s3: S3Settings) -> S3Target | None:
        """The S3 of the settings, when they give its endpoint and both credentials."""
        if not (s3.endpoint_url and s3.access_key_id and s3.secret_access_key):
            return None
        return cls(s3.endpoint_url, s3.access_key_id, s3.secret_access_key, s3.bucket, s3.region)

    def connection(self) -> S3Connection:
        """The same endpoint as the sinks library takes it."""
        from sinks import S3Connection

        return S3Connection(
            endpoint_url=self.endpoint_url,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            region=self.region,
        )


@dataclass(frozen=True)
class ResolvedEndpoints:
    """The settings read once, and where Kafka and S3 actually are: what every component of ``kemu up`` is built
    from (in the parent and, rebuilt from its environment, in each child)."""

    settings: Settings
    kafka_bootstrap: str
    s3: S3Target


def launcher_for(settings: Settings, reporter: Reporter | None = None) -> LocalServices:
    """The embedded services of the settings' run directory."""
    return LocalServices(settings.services, bucket=settings.s3.bucket, reporter=reporter)


def kafka_bootstrap(settings: Settings, needed_for: str, alternative: str = "") -> str:
    """The configured Kafka, else the running embedded broker; one clear error when there is neither.

    ``needed_for`` completes "no Kafka to …"; ``alternative`` adds what else the command could do instead.
    """
    if settings.kafka.bootstrap_servers:
        return settings.kafka.bootstrap_servers
    state = launcher_for(settings).running_state()
    if state is None:
        raise ServicesNotRunningError(
            f"no Kafka to {needed_for}: start the embedded services with `kemu services up` or set "
            f"KEMU_KAFKA__BOOTSTRAP_SERVERS{alternative}"
        )
    return state.kafka.bootstrap_servers


def s3_target(settings: Settings) -> S3Target | None:
    """The configured S3, else the running embedded MinIO (with its bucket), else None."""
    configured = S3Target.configured(settings.s3)
    if configured is not None:
        return configured
    services = launcher_for(settings)
    state = services.running_state()
    return None if state is None else embedded_s3(settings, services, state)


def s3_connection(settings: Settings) -> S3Connection | None:
    """:func:`s3_target` as the sinks library takes it: where Firehose delivery streams write (None: Firehose's
    CreateDeliveryStream answers that no S3 target is configured)."""
    target = s3_target(settings)
    return None if target is None else target.connection()


def embedded_s3(settings: Settings, services: LocalServices, state: ServicesState) -> S3Target:
    """The embedded MinIO of ``state``, with the credentials ``kemu services`` generated for it."""
    creds = services.credentials()
    return S3Target(
        state.minio.endpoint_url,
        creds.access_key_id,
        SecretStr(creds.secret_access_key.get_secret_value()),
        state.bucket,
        settings.s3.region,
    )


def require_s3(settings: Settings, needed_for: str) -> S3Target:
    """:func:`s3_target`, or one clear error saying how to get an S3."""
    target = s3_target(settings)
    if target is None:
        raise ServicesNotRunningError(
            f"no S3 to {needed_for}: start the embedded services with `kemu services up` or set KEMU_S3__ENDPOINT_URL, "
            "KEMU_S3__ACCESS_KEY_ID and KEMU_S3__SECRET_ACCESS_KEY"
        )
    return target


def configured_endpoints(settings: Settings) -> ResolvedEndpoints | None:
    """The endpoints the settings give, when they name both Kafka and S3 (with credentials)."""
    target = S3Target.configured(settings.s3)
    if not settings.kafka.bootstrap_servers or target is None:
        return None
    return ResolvedEndpoints(settings, settings.kafka.bootstrap_servers, target)


def embedded_endpoints(settings: Settings, services: LocalServices, start: bool) -> ResolvedEndpoints:
    """The endpoints of the embedded services: started now (``start``) or already running."""
    state = services.start() if start else services.running_state()
    if state is None:
        raise ServicesNotRunningError(
            "no Kafka and S3 configured and the embedded services are not running: start them with "
            "`kemu services up`, or set KEMU_KAFKA__BOOTSTRAP_SERVERS and KEMU_S3__*"
        )
    return ResolvedEndpoints(settings, state.kafka.bootstrap_servers, embedded_s3(settings, services, state))
