"""Every shell line and Python example of README.md, run verbatim (taken from the file itself, so no edit can drift).

The convention for README.md code blocks (also told to contributors in the README's "Examples" note):

- ```` ```bash ```` blocks run as one bash script (`set -e`: every line must succeed) in a scratch copy of the
  clone (its top-level entries linked, `.venv` included), with the venv's `bin` first on PATH and the OpenAI and
  Anthropic SDKs pointed at a loopback fake of their APIs (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`; the demo's
  fake, tests/support). `pip install` lines are checked, not run: each requirement must be a distribution of this
  repository (with extras it defines), a path in the clone (`-e DIR`), or a package installed in the test
  environment. opentelemetry-distro is hidden from the run (as on a fresh `pip install llmtap-openai`) unless the
  block's own `pip install` line installs it.
- ```` ```python ```` blocks run each as a script of their own in the same place: each is a complete program.
- ```` ```toml ```` blocks must parse; a `[tool.llmtap]` table in one must load through llmtap's config loader.
- `<!-- readme-test: file NAME -->` on the line before a block: the block is the file NAME in the scratch
  directory of every example after it (not of those before), not run by itself.
- `<!-- readme-test: skip REASON -->` before a block: not run. Kept to a very few, each with its reason.
- Any other block (```` ``` ````, ```` ```text ````) is output shown to the reader, not run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from llmtap.config import load_settings
from tests.support.loopback import LoopbackAPI, Reply

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_SKIPPED = 5  # the README's not-runnable list stays tiny

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(\w+)\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str = ""  # "skip" | "file" | ""
    argument: str = ""

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.lang}"


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body = []
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append(lines[index])
            index += 1
        index += 1
        previous = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.match(previous.strip())
        blocks.append(
            Block(
                start + 1,
                opening.group(1).lower(),
                "\n".join(body) + "\n",
                marker.group(1) if marker else "",
                marker.group(2) if marker else "",
            )
        )
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
RUNNABLE = [block for block in BLOCKS if block.lang in ("bash", "python") and not block.marker]
FILES = [block for block in BLOCKS if block.marker == "file"]


def _repository_distributions() -> dict[str, set[str]]:
    """Distribution name -> extras, for every pyproject.toml of the repository."""
    found = {}
    for pyproject in [ROOT / "pyproject.toml", *sorted(ROOT.glob("instrumentors/*/pyproject.toml"))]:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        found[project["name"]] = set(project.get("optional-dependencies", {}))
    return found


_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?(?:[<>=!~].*)?$")


def check_pip_line(line: str) -> list[str]:
    """Problems with a `pip install ...` line (empty when every requirement resolves here)."""
    words = shlex.split(line, comments=True)
    if words[:2] != ["pip", "install"]:
        return [f"not a plain `pip install` line: {line!r}"]
    problems = []
    ours = _repository_distributions()
    words = words[2:]
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if word == "-e":
            path = words[position]
            position += 1
            if not (ROOT / path / "pyproject.toml").is_file():
                problems.append(f"-e {path}: no pyproject.toml at {ROOT / path}")
            continue
        if word.startswith("-"):
            problems.append(f"option {word!r} is not understood by this check")
            continue
        match = _REQUIREMENT.match(word)
        if match is None:
            problems.append(f"{word!r} is not a requirement")
            continue
        name, extras = match.group(1), {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
        if name in ours:
            unknown = sorted(extras - ours[name])
            if unknown:
                problems.append(f"{word!r}: {name} has no extra {', '.join(unknown)} (it has {sorted(ours[name])})")
            continue
        try:
            version(name)
        except PackageNotFoundError:
            problems.append(f"{word!r} is neither a distribution of this repository nor installed here")
    return problems


def _is_pip_line(line: str) -> bool:
    return line.strip().startswith("pip install ")


@pytest.fixture(scope="module")
def fake_api() -> Iterator[LoopbackAPI]:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import demo_anthropic  # the demo's fake answers any model with a well-formed reply
        import demo_openai
    finally:
        sys.path.remove(str(ROOT / "examples"))
    with LoopbackAPI() as api:
        demo_openai.serve(api)
        demo_anthropic.serve(api)
        yield api


@pytest.fixture(scope="module")
def collector() -> Iterator[LoopbackAPI | None]:
    """An OTLP/HTTP sink on the README's `localhost:4318` when the port is free (else the export fails quickly)."""
    try:
        sink = LoopbackAPI(port=4318)
    except OSError:
        yield None
        return
    for path in ("/v1/traces", "/v1/metrics", "/v1/logs"):
        sink.route("POST", path, lambda _request: Reply(body={}))
    with sink:
        yield sink


@pytest.fixture(scope="module")
def no_distro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A path entry that hides opentelemetry-distro: a metadata-only stand-in earlier on the path hides its entry
    points (importlib.metadata keeps the first distribution of a name)."""
    folder = tmp_path_factory.mktemp("no-distro")
    mask = folder / "opentelemetry_distro-0.dist-info"
    mask.mkdir()
    (mask / "METADATA").write_text("Metadata-Version: 2.1\nName: opentelemetry-distro\nVersion: 0\n")
    return folder


def scratch_for(block: Block, folder: Path) -> Path:
    """A scratch copy of the clone for `block`: the top-level entries linked, and the README's file blocks that
    come before it written (a file block is "the file above" for the examples after it)."""
    for entry in ROOT.iterdir():
        if entry.name != ".git":
            (folder / entry.name).symlink_to(entry)
    for file in FILES:
        if file.line < block.line:
            (folder / file.argument).unlink(missing_ok=True)  # never write through a link into the clone
            (folder / file.argument).write_text(file.text, encoding="utf-8")
    return folder


def _environment(api: LoopbackAPI, no_distro: Path, *, distro: bool) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "LLMTAP_", "OPENAI_", "ANTHROPIC_", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        OPENAI_API_KEY="sk-readme-not-a-real-key",
        OPENAI_BASE_URL=f"{api.base_url}/v1",
        ANTHROPIC_API_KEY="sk-ant-readme-not-a-real-key",
        ANTHROPIC_BASE_URL=api.base_url,
    )
    if not distro:
        env["PYTHONPATH"] = str(no_distro)
    return env


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_readme_example_runs_verbatim(
    block: Block, fake_api: LoopbackAPI, collector: LoopbackAPI | None, no_distro: Path, tmp_path: Path
) -> None:
    scratch = scratch_for(block, tmp_path)
    if block.lang == "python":
        script = scratch / f"readme_{block.line}.py"
        script.write_text(block.text, encoding="utf-8")
        command = [sys.executable, str(script)]
        env = _environment(fake_api, no_distro, distro=True)
    else:
        lines = block.text.splitlines()
        problems = [problem for line in lines if _is_pip_line(line) for problem in check_pip_line(line)]
        assert problems == [], f"{block.id}: {problems}"
        distro = any(_is_pip_line(line) and "opentelemetry-distro" in line for line in lines)
        script = "\n".join("true  # (pip line checked)" if _is_pip_line(line) else line for line in lines)
        command = ["bash", "-e", "-c", script]
        env = _environment(fake_api, no_distro, distro=distro)
    result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"{block.id} failed:\n{block.text}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, f"{block.id}:\n{result.stderr}"


def test_toml_examples_parse_and_load() -> None:
    tomls = [block for block in BLOCKS if block.lang == "toml" and not block.marker]
    assert tomls
    for block in tomls:
        table = tomllib.loads(block.text)
        llmtap_table = table.get("tool", {}).get("llmtap")
        if llmtap_table is not None:
            load_settings(environ={}, config=llmtap_table)


def test_the_not_runnable_list_stays_tiny() -> None:
    skipped = [block for block in BLOCKS if block.marker == "skip"]
    assert len(skipped) <= MAX_SKIPPED, [block.id for block in skipped]
    assert all(block.argument for block in skipped), "every skipped block says why"
    assert all(block.marker in ("", "skip", "file") for block in BLOCKS)
    assert len(RUNNABLE) >= 8


def test_pip_line_check_catches_what_would_not_install() -> None:
    assert check_pip_line('pip install "llmtap[openai,otlp]" llmtap-anthropic') == []
    assert check_pip_line("pip install llmtap[opnai]")[0].startswith(
        "'llmtap[opnai]': llmtap has no extra opnai (it has ["
    )
    assert check_pip_line("pip install llmtap-gemini") == [
        "'llmtap-gemini' is neither a distribution of this repository nor installed here"
    ]
    assert check_pip_line("pip install -e instrumentors/nope") == [
        f"-e instrumentors/nope: no pyproject.toml at {ROOT / 'instrumentors/nope'}"
    ]
