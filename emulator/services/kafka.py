"""The embedded Apache Kafka broker: jars from Maven Central, one KRaft node in combined mode on the local JDK."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from emulator.exceptions import ProvisionError, ServiceStartError
from emulator.services.ports import LOOPBACK, is_listening
from emulator.services.process import ProcessRef, exited_early, spawn
from emulator.services.progress import Reporter, run_logged
from emulator.services.state import private_dir
from emulator.services.tools import require_tool

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kemu</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{kafka}</version>
    </dependency>
    <!-- the release tarball puts these on the classpath; the POM leaves the logging binding to the user -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def kafka_home(cache_dir: Path, version: str) -> Path:
    return cache_dir / "kafka" / version


def kafka_classpath(cache_dir: Path, version: str) -> str:
    return str(kafka_home(cache_dir, version) / "lib" / "*")


def is_kafka_provisioned(cache_dir: Path, version: str) -> bool:
    return (kafka_home(cache_dir, version) / "lib" / ".complete").is_file()


def provision_kafka(cache_dir: Path, version: str, log4j_version: str, reporter: Reporter) -> Path:
    """Fetch the broker's jars once with Maven; later calls return the cached directory without any network."""
    home = kafka_home(cache_dir, version)
    lib = home / "lib"
    if is_kafka_provisioned(cache_dir, version):
        return lib
    mvn = require_tool("mvn", "to download the Kafka broker's jars from Maven Central")
    reporter.step(f"downloading Apache Kafka {version} from Maven Central (once; cached in {home})")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(_POM.format(kafka=version, log4j=log4j_version))
    staging = home / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    log = home / "provision.log"
    code = run_logged(
        [
            mvn,
            "-B",
            "-ntp",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
            "-f",
            str(home / "pom.xml"),
        ],
        log,
        reporter,
    )
    if code != 0:
        raise ProvisionError(f"Maven could not fetch Kafka {version} (exit {code}); see {log}")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    (lib / ".complete").write_text(version)
    return lib


def new_cluster_id() -> str:
    """URL-safe base64 of 16 random bytes without padding, never starting with '-' (what kafka-storage.sh makes)."""
    while True:
        cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def render_server_properties(port: int, controller_port: int, log_dir: Path, host: str = LOOPBACK) -> str:
    """A single-node KRaft broker+controller with every internal topic at replication factor 1."""
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "10",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Topics exist only when created on purpose: aiokafka asks for every topic it has used with auto-creation
        # allowed, so with this on a client still holding a deleted stream's name re-creates it (with 1 partition).
        "auto.create.topics.enable": "false",
        # A Kinesis record may be 1 MiB of data plus its key; leave room above it.
        "message.max.bytes": str(2 * 1024 * 1024),
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def start_kafka(
    cache_dir: Path,
    version: str,
    run_dir: Path,
    port: int,
    controller_port: int,
    heap_mb: int,
) -> ProcessRef:
    """Format the storage on first use, then start the broker; returns at once (see :func:`wait_kafka_ready`)."""
    java = require_tool("java", "to run the embedded Kafka broker")
    data_dir = private_dir(run_dir / "kafka-data")
    config = private_dir(run_dir / "kafka") / "server.properties"
    config.write_text(render_server_properties(port, controller_port, data_dir))
    log4j = run_dir / "kafka" / "log4j2.properties"
    log4j.write_text(_LOG4J2)
    classpath = kafka_classpath(cache_dir, version)
    jvm = [
        java,
        f"-Xmx{heap_mb}m",
        f"-Xms{min(heap_mb, 256)}m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        f"-Dkafka.logs.dir={run_dir / 'kafka'}",
        "-cp",
        classpath,
    ]
    if not (data_dir / "meta.properties").is_file():
        result = subprocess.run(  # noqa: S603 - resolved java path, no shell
            [*jvm, "kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(config)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise ServiceStartError(f"formatting Kafka's storage in {data_dir} failed: {result.stdout}{result.stderr}")
    return spawn([*jvm, "kafka.Kafka", str(config)], run_dir / "kafka" / "server.log")


async def _kafka_answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def _run_in_own_loop(bootstrap: str) -> bool:
    # A thread with its own event loop, so this works whether or not the caller is inside one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _kafka_answers(bootstrap)).result()


def wait_kafka_ready(ref: ProcessRef, port: int, timeout_s: float, log_file: Path) -> None:
    """Poll the broker with a real metadata request until it answers, the process dies, or time runs out."""
    bootstrap = f"{LOOPBACK}:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = exited_early(ref)
        if code is not None:
            raise ServiceStartError(f"the Kafka broker exited with code {code} while starting; see {log_file}")
        # The socket check first keeps the client from logging a connection error on every early attempt.
        if is_listening(port) and _run_in_own_loop(bootstrap):
            return
        time.sleep(0.3)
    raise ServiceStartError(f"the Kafka broker did not answer on {bootstrap} within {timeout_s:.0f} s; see {log_file}")
