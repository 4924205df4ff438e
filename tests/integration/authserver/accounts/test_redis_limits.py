"""With REDIS_URL, rate-limit counters live in Redis, so every worker (here: two apps) shares them."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from .conftest import free_port, sign_in

redis = pytest.importorskip("redis", reason="the redis client is not installed")
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """A throw-away Redis server on a free 127.0.0.1 port, without persistence."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed local binary
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_two_workers_share_the_sign_in_limit(make_app, redis_url):
    settings = {"PORTAL_RATE_LIMITS": True, "SIGNIN_LIMIT_PER_ADDRESS": "3 per minute", "REDIS_URL": redis_url}
    first, second = make_app(**settings).test_client(), make_app(**settings).test_client()
    statuses = [sign_in(client, "nobody@example.com", "Wr0ng!pass").status_code for client in (first, second) * 2]
    assert statuses == [200, 200, 200, 429]
    keys = redis.Redis.from_url(redis_url).keys("LIMITS:LIMITER/portal/*")
    assert len(keys) == 2 and not any(b"nobody" in key for key in keys)  # per address, and per e-mail digest
