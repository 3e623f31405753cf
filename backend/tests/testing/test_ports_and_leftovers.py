"""What the container engine leaves on the machine does not break a test run: a port it forwards
is never handed out as free, and a container of a run that ended without cleaning up is removed
by the next run.

Found on CI: a killed run's testcontainers Postgres stayed up with its port forwarded (podman's
iptables DNAT, no socket on the host); a later run's fault proxy was given that port as free,
and every connection to the proxy went to the old container instead."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aido.testing.ports import free_port, usable
from aido.testing.postgres import (
    OWNER_LABEL,
    docker_answers,
    remove_leftover_containers,
    run_is_gone,
    this_run,
)

IMAGE = "debian:bookworm-slim"  # in the container lab, and on any machine that has Docker Hub


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    if not docker_answers():
        pytest.skip("needs a container engine (DOCKER_HOST): what is tested is what one leaves")
    import docker

    client = docker.from_env(timeout=60)
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def container(engine: Any, **kwargs: Any) -> Iterator[Any]:
    created = engine.containers.create(IMAGE, ["sleep", "120"], **kwargs)
    try:
        yield created
    finally:
        with contextlib.suppress(Exception):
            created.remove(force=True)


@pytest.fixture
def nat_rule() -> Iterator[Callable[[int, int], None]]:
    """Adds the kind of rule a rootful podman leaves for a published port: connections to
    127.0.0.1:<port> are sent to another address, and no socket holds the port."""
    iptables = shutil.which("iptables")
    if os.geteuid() != 0 or iptables is None:
        pytest.skip("needs root and iptables: what is tested is a NAT rule of the kernel")
    added: list[list[str]] = []

    def add(port: int, to_port: int) -> None:
        rule = ["OUTPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport", str(port),
                "-j", "DNAT", "--to-destination", f"127.0.0.1:{to_port}"]  # fmt: skip
        subprocess.run([iptables, "-t", "nat", "-I", *rule], check=True)
        added.append(rule)

    try:
        yield add
    finally:
        for rule in added:
            subprocess.run([iptables, "-t", "nat", "-D", *rule], check=False)


@pytest.mark.parametrize("target", ["refused", "answered by another listener"])
def test_a_port_whose_connections_are_forwarded_elsewhere_is_not_usable(
    nat_rule: Callable[[int, int], None], target: str
) -> None:
    port, elsewhere = free_port(), free_port()
    with socket.socket() as other:
        if target != "refused":
            other.bind(("127.0.0.1", elsewhere))
            other.listen(1)
        nat_rule(port, elsewhere)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # the kernel calls the port free: nothing holds it
        assert usable(port) is None
    assert usable(elsewhere) == elsewhere


def test_a_free_port_reaches_its_own_listener() -> None:
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
            accepted, peer = listener.accept()
            accepted.close()
            assert peer == probe.getsockname()


def test_only_runs_that_ended_on_this_host_are_judged_gone() -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    host = socket.gethostname()
    assert not run_is_gone(this_run())
    assert run_is_gone(f"{host}/{ended.pid}/1")  # no such process (or one started later)
    assert run_is_gone(f"{host}/{os.getpid()}/1")  # this pid, but reused: another start time
    assert not run_is_gone(f"another-host/{ended.pid}/1")
    assert not run_is_gone("written by someone else")


def test_the_containers_of_ended_runs_are_removed_and_no_others(
    engine: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    owners = {
        "ended": f"{socket.gethostname()}/{ended.pid}/1",
        "running": this_run(),
        "elsewhere": f"another-host/{ended.pid}/1",
    }
    with contextlib.ExitStack() as stack:
        made = {
            name: stack.enter_context(container(engine, labels={OWNER_LABEL: owner}))
            for name, owner in owners.items()
        }
        remove_leftover_containers()
        left = {c.id for c in engine.containers.list(all=True, filters={"label": OWNER_LABEL})}
        assert {name for name, c in made.items() if c.id in left} == {"running", "elsewhere"}
    said = capsys.readouterr().err
    assert f"removing container {made['ended'].short_id}" in said
    assert owners["ended"] in said
