from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the testing/ helpers

LABEL = "mutbot.run"


@pytest.fixture(autouse=True)
def _no_real_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests must never read or write the developer's real git config or home folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(scope="session")
def docker_client() -> Any:
    import docker
    import docker.errors
    import requests.exceptions

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        pytest.fail(
            f"no Docker engine ({exc}); start one (../shared/dockerd-up) "
            "or deselect these tests with -m 'not docker'"
        )
    return client


def mutbot_objects(client: Any) -> list[str]:
    selector = {"label": LABEL}
    found = [f"container {c.name}" for c in client.containers.list(all=True, filters=selector)]
    found += [f"network {n.name}" for n in client.networks.list(filters=selector)]
    found += [f"image {i.tags}" for i in client.images.list(filters=selector)]
    return found


@pytest.fixture
def docker_clean(docker_client: Any) -> Iterator[Any]:
    """Fails the test if it leaves any mutbot container, network or image behind."""
    assert mutbot_objects(docker_client) == [], "left over from an earlier test"
    yield docker_client
    assert mutbot_objects(docker_client) == []


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Docker does not answer: its address is a closed port on this host."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
