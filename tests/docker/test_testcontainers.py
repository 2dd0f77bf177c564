"""The testcontainers source on a real engine: containers on loopback, removed by the session that started them,
or by the next session when that one was killed; a container that cannot start is named with its cause."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.docker.support import ROOT, checked, require_docker
from tests.support.containers import OWNER_LABEL, ContainersError, containers, reap_orphans
from tests.support.s3 import s3_client


@pytest.fixture(autouse=True)
def engine() -> None:
    require_docker()


def owned_by(pid: int) -> list[str]:
    out = checked(["docker", "ps", "-a", "-q", "--filter", f"label={OWNER_LABEL}={pid}"], 30)
    return out.split()


def test_a_session_publishes_on_loopback_and_removes_what_it_started() -> None:
    with containers() as services:
        started = owned_by(os.getpid())
        assert len(started) == 2
        for cid in started:
            ports = checked(["docker", "port", cid], 30)
            assert ports.strip()
            assert all(line.split(" -> ")[1].startswith("127.0.0.1:") for line in ports.strip().splitlines())
        s3 = s3_client(services.s3_endpoint, services.s3_access_key, services.s3_secret_key)
        assert s3.list_buckets()["Buckets"] == []
        assert services.kafka_bootstrap.startswith("127.0.0.1:")
    assert owned_by(os.getpid()) == []


def test_the_containers_of_a_killed_session_are_removed_by_the_next() -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from tests.support.containers import containers
        with containers():
            print("ready", flush=True)
            time.sleep(600)
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            assert len(owned_by(child.pid)) == 2
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
    left = owned_by(child.pid)
    assert len(left) == 2, "a killed session cannot clean up: this is what the next session must do"
    reap_orphans()
    assert owned_by(child.pid) == []


def test_a_container_that_cannot_start_is_named_with_its_cause() -> None:
    with (
        pytest.raises(ContainersError, match=r"the kemu-test/absent:0 container could not start: \w+") as raised,
        containers(kafka_image="kemu-test/absent:0"),
    ):
        pass
    # The engine's own words follow: what it could not find (here: the pull of the absent image failed).
    cause = str(raised.value).split("could not start:", 1)[1]
    assert "Error" in cause
    assert "absent" in cause
    assert owned_by(os.getpid()) == []
