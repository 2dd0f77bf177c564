"""``kemu services``: provision, start, watch and stop the embedded Kafka and MinIO as one unit."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from emulator.exceptions import ServiceStartError
from emulator.services import kafka, minio
from emulator.services.buckets import ensure_bucket
from emulator.services.ports import pick_ports
from emulator.services.process import ProcessRef, stop
from emulator.services.progress import Reporter, SilentReporter
from emulator.services.state import (
    Credentials,
    KafkaState,
    MinioState,
    ServicesState,
    load_or_create_credentials,
    load_state,
    private_dir,
    save_state,
)
from emulator.settings import ServicesSettings
from sinks import S3Connection, make_s3_client


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    address: str | None
    pid: int | None


class LocalServices:
    """The embedded services of one run directory (the user's, or a test session's own temporary one).

    Binaries live in the shared cache (``cache_dir``); data, logs, credentials and the state file live in
    ``run_dir``, so a test session never touches the data of the user's own ``kemu services up``.
    """

    def __init__(
        self,
        config: ServicesSettings,
        bucket: str,
        run_dir: Path | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self._config = config
        self._bucket = bucket
        self.run_dir = run_dir or config.run_dir or config.cache_dir / "run"
        self._reporter = reporter or SilentReporter()
        self._started: list[ProcessRef] = []

    @property
    def state_file(self) -> Path:
        return self.run_dir / "services.json"

    def credentials(self) -> Credentials:
        return load_or_create_credentials(self.run_dir / "minio" / "credentials.json")

    def provision(self) -> None:
        """Fetch Kafka's jars and build MinIO if the cache lacks them; no network when it has them."""
        c = self._config
        kafka.provision_kafka(c.cache_dir, c.kafka_version, c.kafka_log4j_version, self._reporter)
        minio.provision_minio(c.cache_dir, c.minio_module_version, self._reporter)

    def running_state(self) -> ServicesState | None:
        """The recorded state if both services it names are still alive."""
        state = load_state(self.state_file)
        if state is None or not (state.kafka.process.is_alive() and state.minio.process.is_alive()):
            return None
        return state

    def start(self) -> ServicesState:
        """Start both services (or return the running ones), wait until each answers, create the bucket.

        On any failure, Ctrl-C included, whatever was started is stopped again before the error propagates.
        """
        running = self.running_state()
        if running is not None:
            return running
        self._stop_recorded()  # one of the two may have died: start both afresh on known ports
        self.provision()
        private_dir(self.run_dir)
        previous = load_state(self.state_file)
        preferred = (
            [
                previous.kafka.port,
                previous.kafka.controller_port,
                previous.minio.port,
                previous.minio.console_port,
            ]
            if previous
            else None
        )
        kafka_port, controller_port, minio_port, console_port = pick_ports(4, preferred)
        c = self._config
        try:
            self._reporter.step(f"starting Kafka {c.kafka_version} on 127.0.0.1:{kafka_port}")
            kafka_ref = kafka.start_kafka(
                c.cache_dir, c.kafka_version, self.run_dir, kafka_port, controller_port, c.kafka_heap_mb
            )
            self._started.append(kafka_ref)
            creds = self.credentials()
            secret = creds.secret_access_key.get_secret_value()
            self._reporter.step(f"starting MinIO on 127.0.0.1:{minio_port}")
            minio_ref = minio.start_minio(
                minio.minio_binary(c.cache_dir, c.minio_module_version),
                self.run_dir,
                minio_port,
                console_port,
                creds.access_key_id,
                secret,
            )
            self._started.append(minio_ref)
            state = ServicesState(
                kafka=KafkaState(
                    process=kafka_ref,
                    port=kafka_port,
                    controller_port=controller_port,
                    log_file=self.run_dir / "kafka" / "server.log",
                ),
                minio=MinioState(
                    process=minio_ref,
                    port=minio_port,
                    console_port=console_port,
                    log_file=self.run_dir / "minio" / "server.log",
                ),
                bucket=self._bucket,
            )
            save_state(self.state_file, state)
            self._reporter.step("waiting for MinIO to answer")
            minio.wait_minio_ready(minio_ref, state.minio.endpoint_url, c.start_timeout_s, state.minio.log_file)
            connection = S3Connection(
                endpoint_url=state.minio.endpoint_url,
                access_key_id=creds.access_key_id,
                secret_access_key=creds.secret_access_key,
            )
            ensure_bucket(make_s3_client(connection), self._bucket)
            self._reporter.step("waiting for Kafka to answer")
            kafka.wait_kafka_ready(kafka_ref, kafka_port, c.start_timeout_s, state.kafka.log_file)
        except BaseException:
            self._stop_started()
            raise
        self._started.clear()
        return state

    def stop(self) -> bool:
        """Stop the recorded services; ``False`` when nothing was running."""
        was_running = self.running_state() is not None
        self._stop_recorded()
        return was_running

    def stop_minio(self) -> None:
        """Stop only MinIO, keeping its data, port and credentials (outage tests; Kafka keeps running)."""
        state = load_state(self.state_file)
        if state is not None:
            stop(state.minio.process)

    def start_minio(self) -> ServicesState:
        """Start MinIO again after :meth:`stop_minio`, on the same port with the same data; waits until it answers."""
        state = load_state(self.state_file)
        if state is None:
            raise ServiceStartError("no recorded services to restart MinIO for; start them first")
        if state.minio.process.is_alive():
            return state
        creds = self.credentials()
        ref = minio.start_minio(
            minio.minio_binary(self._config.cache_dir, self._config.minio_module_version),
            self.run_dir,
            state.minio.port,
            state.minio.console_port,
            creds.access_key_id,
            creds.secret_access_key.get_secret_value(),
        )
        state = state.model_copy(update={"minio": state.minio.model_copy(update={"process": ref})})
        save_state(self.state_file, state)
        minio.wait_minio_ready(ref, state.minio.endpoint_url, self._config.start_timeout_s, state.minio.log_file)
        return state

    def status(self) -> list[ServiceStatus]:
        state = load_state(self.state_file)
        if state is None:
            return [ServiceStatus("kafka", False, None, None), ServiceStatus("minio", False, None, None)]
        return [
            ServiceStatus(
                "kafka",
                state.kafka.process.is_alive(),
                state.kafka.bootstrap_servers,
                state.kafka.process.pid,
            ),
            ServiceStatus("minio", state.minio.process.is_alive(), state.minio.endpoint_url, state.minio.process.pid),
        ]

    def purge(self) -> None:
        """Stop the services and delete their data (topics, objects); the cached binaries stay."""
        self._stop_recorded()
        for name in ("kafka-data", "minio-data", "kafka", "minio"):
            shutil.rmtree(self.run_dir / name, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    def _stop_recorded(self) -> None:
        state = load_state(self.state_file)
        if state is None:
            return
        # MinIO first: it has no clients of its own to drain, and Kafka's controlled shutdown is the slow one.
        for ref in (state.minio.process, state.kafka.process):
            stop(ref)

    def _stop_started(self) -> None:
        for ref in reversed(self._started):
            stop(ref)
        self._started.clear()

    def __enter__(self) -> ServicesState:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop_recorded()
