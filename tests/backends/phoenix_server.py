"""A real Phoenix server from PyPI on loopback, in its own virtual environment (its pins never meet ours).

The environment is made once per Phoenix and Python version, outside the clone, under
`$LLMTAP_CACHE_DIR` (default `~/.cache/llmtap`)/`phoenix-<version>-py<X.Y>`: installed into a `.partial`
folder and renamed when complete, under a file lock, so concurrent or interrupted runs never use a half-made one.
Every step has a time limit.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PHOENIX_VERSION = "20.26.1"
INSTALL_TIMEOUT = 1800  # s; about 50 s on a quiet machine, several minutes on a busy one
START_TIMEOUT = 480  # s until /healthz answers (a first start on a loaded machine builds caches)
REQUEST_TIMEOUT = 30  # s per HTTP request to the server


def cache_dir() -> Path:
    return Path(os.environ.get("LLMTAP_CACHE_DIR") or Path.home() / ".cache" / "llmtap")


def venv_path() -> Path:
    return cache_dir() / f"phoenix-{PHOENIX_VERSION}-py{sys.version_info.major}.{sys.version_info.minor}"


def _installed(venv: Path) -> bool:
    """The folder is renamed into place only after pip succeeded, so its distribution record suffices (importing
    Phoenix to ask its version takes minutes on a busy machine)."""
    python = venv / "bin" / "python"
    return python.exists() and any(venv.glob(f"lib/python*/site-packages/arize_phoenix-{PHOENIX_VERSION}.dist-info"))


def ensure_venv() -> Path:
    """The Phoenix environment, made now if missing (one process at a time)."""
    venv = venv_path()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(venv):
            return venv
        partial = venv.with_name(venv.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(venv, ignore_errors=True)
        base = getattr(sys, "_base_executable", None) or sys.executable
        subprocess.run([base, "-m", "venv", str(partial)], check=True, timeout=300)
        subprocess.run(
            [str(partial / "bin" / "python"), "-m", "pip", "install", "--quiet", f"arize-phoenix=={PHOENIX_VERSION}"],
            check=True,
            timeout=INSTALL_TIMEOUT,
        )
        partial.rename(venv)  # the interpreter is invoked as `bin/python -m`, which survives the move
        if not _installed(venv):
            raise RuntimeError(f"arize-phoenix=={PHOENIX_VERSION} did not install into {venv}")
        return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Phoenix:
    """A running server: `base_url`, and its REST and GraphQL APIs."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base_url + path, timeout=REQUEST_TIMEOUT) as response:
            return json.load(response)

    def graphql(self, query: str, **variables: Any) -> Any:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            self.base_url + "/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            answer = json.load(response)
        if answer.get("errors"):
            raise AssertionError(answer["errors"])
        return answer["data"]

    def spans(self, project: str = "default") -> list[dict[str, Any]]:
        """Every span of `project` as Phoenix's REST API returns it (attributes as Phoenix stored them)."""
        spans: list[dict[str, Any]] = []
        cursor = ""
        while True:
            try:
                page = self.get(f"/v1/projects/{project}/spans?limit=1000{cursor}")
            except urllib.error.HTTPError as exc:
                if exc.code == 404:  # the project appears with its first span
                    return []
                raise
            spans.extend(page["data"])
            if not page.get("next_cursor"):
                return spans
            cursor = f"&cursor={page['next_cursor']}"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def phoenix_server(workdir: Path) -> Iterator[Phoenix]:
    """Start Phoenix on loopback (its data in `workdir`); stopped on exit."""
    venv = ensure_venv()
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "PHOENIX_", "LLMTAP_"))},
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_WORKING_DIR": str(workdir),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = open(workdir / "phoenix.log", "wb")  # closed below, after the process
    process = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "phoenix.server.main", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (workdir / "phoenix.log").read_text(errors="replace")[-4000:]
                raise RuntimeError(f"Phoenix did not start at {url} (exit code {process.poll()}):\n{tail}")
            time.sleep(0.5)
        yield Phoenix(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()
