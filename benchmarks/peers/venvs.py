"""The peers' virtual environments: one per pinned set in this directory, created on demand, cached.

Each `<name>.txt` here installs one instrumentation peer next to the same pinned SDKs (`base.txt`); the
sets were checked to install and run together. A venv lives outside the clone, under
`~/.cache/llmtap/bench-peers/<name>-<hash>` (`$LLMTAP_BENCH_PEERS_CACHE` to move it), keyed by a hash of
its requirement files and the Python version, so editing a pin makes a fresh one and an unchanged set is
reused from run to run. pyyaml is added to each: the benchmark's wire-format builders (tests/support) use
it to validate the response bodies, in the worker process too.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = ("otel-official", "otel-genai", "openinference", "openllmetry")
EXTRA = ("pyyaml",)


def cache_root() -> Path:
    configured = os.environ.get("LLMTAP_BENCH_PEERS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "llmtap" / "bench-peers"


def _key(name: str) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for file in ("base.txt", f"{name}.txt"):
        digest.update((HERE / file).read_bytes())
    digest.update(" ".join(EXTRA).encode())
    return digest.hexdigest()[:12]


def venv_python(name: str) -> Path:
    return cache_root() / f"{name}-{_key(name)}" / "bin" / "python"


def ensure(name: str, log: bool = True) -> Path:
    """The Python of the peer `name`'s venv, created and installed first if it is not there yet."""
    python = venv_python(name)
    done = python.parent.parent / ".installed"
    if done.exists():
        return python
    root = python.parent.parent
    if log:
        print(f"creating the {name} venv in {root} (once; pip install of {name}.txt)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(HERE / f"{name}.txt"), *EXTRA],
        check=True,
        cwd=HERE,
    )
    done.write_text("ok\n")
    return python


if __name__ == "__main__":
    for peer in sys.argv[1:] or PEERS:
        print(ensure(peer))
