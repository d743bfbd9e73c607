"""Shared by the HTTP benchmarks (bench/api.py, bench/feeds.py): serve a WSGI module of bench/
with gunicorn (one worker, one thread, keep-alive, as a small production deployment) or through
Django's test client in this process, and time paths on either in interleaved rounds."""

import http.client
import importlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import harness

Get = Callable[[str, dict], tuple[int, bytes]]  # (path, headers) -> (status, body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app: str, port: int) -> subprocess.Popen:
    """Start gunicorn on `app` ("bench.module:application") and wait until it accepts."""
    server = subprocess.Popen(
        [
            str(harness.ROOT / ".venv/bin/gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "1",
            "--keep-alive",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=harness.ROOT,
        env={**os.environ, "PYTHONPATH": str(harness.ROOT)},
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit("gunicorn did not start")


@contextmanager
def served(module: str) -> Iterator[Get]:
    """gunicorn serving `module`'s `application` ("bench.api_server") on a free port, while the
    block runs; yields a Get over one keep-alive connection."""
    port = free_port()
    server = serve(f"{module}:application", port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port)

        def get(path: str, headers: dict) -> tuple[int, bytes]:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()

        yield get
    finally:
        server.terminate()
        server.wait()


def in_process(module: str) -> Get:
    """A Get through Django's test client on the URLs of `module` (imported here, it makes them
    the ROOT_URLCONF), in this process: no server, no HTTP."""
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = importlib.import_module(module).__name__
    client = Client()

    def get(path: str, headers: dict) -> tuple[int, bytes]:
        response = client.get(path, headers=headers)
        return response.status_code, response.content

    return get


def rounds(get: Get, paths: dict[str, tuple[str, dict, int]], requests: int, count: int) -> dict:
    """Median over `count` interleaved rounds of the mean ms per request, for each path (with
    `requests=1`, the median time per request, the paths taking turns)."""

    def measure(name: str, path: str, headers: dict, expect: int) -> Callable[[], float]:
        def once() -> None:
            status, _body = get(path, headers)
            assert status == expect, (name, status)

        return lambda: harness.mean_ms(once, requests)

    return harness.interleaved({name: measure(name, *spec) for name, spec in paths.items()}, count)
