"""Shared by the HTTP benchmarks: serve a WSGI module with gunicorn (one worker, one thread,
keep-alive, as a small production deployment) and time paths in interleaved rounds."""

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app: str, port: int) -> subprocess.Popen:
    """Start gunicorn on `app` ("bench.module:application") and wait until it accepts."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
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
        cwd=ROOT,
        env=env,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit("gunicorn did not start")


def rounds(get, paths: dict[str, tuple[str, dict, int]], requests: int, count: int) -> dict:
    """Median over `count` interleaved rounds of the mean ms per request, for each path (with
    `requests=1`, the median time per request, the paths taking turns)."""
    samples = {name: [] for name in paths}
    for _ in range(count):
        for name, (path, headers, expect) in paths.items():
            start = time.perf_counter()
            for _ in range(requests):
                status, _body = get(path, headers)
                assert status == expect, (name, status)
            samples[name].append((time.perf_counter() - start) * 1000 / requests)
    return {name: statistics.median(values) for name, values in samples.items()}
