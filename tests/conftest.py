"""Shared fixtures: the embedded local model server is started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callscale.backends.local import LocalServer, ServerSettings


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The real SmolLM2 llama.cpp server on 127.0.0.1 (4 slots)."""
    with LocalServer(ServerSettings()) as server:
        yield server


@pytest.fixture(scope="session")
def local_server_one_slot() -> Iterator[LocalServer]:
    """A one-slot server, on which per-request seeds reproduce exactly."""
    with LocalServer(ServerSettings(slots=1, context=2048)) as server:
        yield server
