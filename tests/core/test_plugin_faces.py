"""Each plugin has two faces: the light patching class `llmtap.instrument()` loads (entry point group
`llmtap.instrumentors`) and the OpenTelemetry `BaseInstrumentor` the `opentelemetry-instrument` launcher loads
(group `opentelemetry_instrumentor`). Both keep the plugin's name; either way in instruments the plugin's one
instance, so the other sees it and never patches twice.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

import llmtap
from llmtap.instrumentation import available_plugins, load_plugin
from llmtap.plugin import LlmtapInstrumentor, dependency_conflict, installed_version, plainly_satisfied
from llmtap_anthropic import AnthropicPlugin
from llmtap_langchain import LangChainPlugin
from llmtap_openai import OpenAIInstrumentor, OpenAIPlugin
from tests.safety.support import openai_client, serve_chat
from tests.support.loopback import LoopbackAPI
from tests.support.telemetry import Telemetry


def test_both_entry_point_groups_name_the_same_plugins() -> None:
    light = {entry.name: entry.load() for entry in entry_points(group="llmtap.instrumentors")}
    launcher = {
        entry.name: entry.load()
        for entry in entry_points(group="opentelemetry_instrumentor")
        if entry.value.startswith("llmtap_")
    }

    assert light == {"anthropic": AnthropicPlugin, "langchain": LangChainPlugin, "openai": OpenAIPlugin}
    assert sorted(launcher) == ["anthropic", "langchain", "openai"]
    for name, face in launcher.items():
        assert issubclass(face, BaseInstrumentor)
        assert face.plugin is light[name]
        assert face().instrumentation_dependencies() == light[name].supported
    assert not issubclass(OpenAIPlugin, BaseInstrumentor)
    # An entry naming the launcher face (an install's metadata from before the split) gives the plugin class.
    launcher_entries = entry_points(group="opentelemetry_instrumentor")
    assert {name: load_plugin(launcher_entries[name]) for name in launcher} == light
    # llmtap's discovery reads only the distributions naming the group, and finds what importlib finds.
    assert {name: entry.value for name, entry in available_plugins().items()} == {
        entry.name: entry.value for entry in entry_points(group="llmtap.instrumentors")
    }


def test_the_launcher_face_and_instrument_share_one_instance(fresh: Telemetry, api: LoopbackAPI) -> None:
    serve_chat(api)
    face = OpenAIInstrumentor()
    assert face is OpenAIInstrumentor() and OpenAIPlugin() is OpenAIPlugin()

    face.instrument(tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider)
    assert OpenAIPlugin().is_instrumented_by_opentelemetry and face.is_instrumented_by_opentelemetry
    llmtap.instrument(tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider, config={})
    openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert [span.name for span in fresh.genai_spans()] == ["chat gpt-4o-mini"]  # patched once

    face.uninstrument()
    assert not OpenAIPlugin().is_instrumented_by_opentelemetry and not face.is_instrumented_by_opentelemetry
    openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert len(fresh.genai_spans()) == 1  # the originals are back


def test_the_launcher_face_reads_the_plugins_attributes(fresh: Telemetry) -> None:
    face = OpenAIInstrumentor()
    assert (face.name, face.library, face.supported) == ("openai", "openai", ("openai >= 3.50, < 4",))
    with pytest.raises(AttributeError):
        _ = face.no_such_attribute


OPENAI = installed_version("openai")


@pytest.mark.parametrize(
    "requirement",
    [
        "openai >= 3.50, < 4",
        f"openai >= {OPENAI}",
        f"openai > {OPENAI}",
        f"openai <= {OPENAI}.0",
        f"openai < {OPENAI}",
        "openai >= 4",
        "openai < 3",
        "openai >= 3, <= 3.1",
        "openai ~= 3.5",  # not a plain comparison: `packaging` decides
        "openai == 3.*",
        "openai-no-such-distribution >= 1",
    ],
)
def test_the_version_check_agrees_with_packaging(requirement: str) -> None:
    expected = get_dependency_conflicts([requirement])

    assert (dependency_conflict([requirement]) is None) == (expected is None)
    if plainly_satisfied(requirement):  # the fast path only ever says "met"
        assert expected is None


def test_the_fast_version_check_decides_the_plugins_own_ranges_without_packaging() -> None:
    assert OPENAI is not None and OPENAI.count(".") == 2
    for plugin in (OpenAIPlugin, AnthropicPlugin, LangChainPlugin):
        assert all(plainly_satisfied(requirement) for requirement in plugin.supported), plugin.supported


def test_an_unmet_range_is_described_as_opentelemetry_describes_it() -> None:
    conflict = dependency_conflict(["openai >= 99"])

    assert str(conflict) == (
        f'This instrumentation only instruments "openai >= 99", but currently installed version ("openai {OPENAI}") '
        "falls outside of that range, so nothing can be instrumented."
    )


def test_instrument_keeps_the_base_instrumentor_keywords(fresh: Telemetry, caplog: pytest.LogCaptureFixture) -> None:
    plugin: LlmtapInstrumentor = OpenAIPlugin()
    plugin.instrument(tracer_provider=fresh.tracer_provider, skip_dep_check=True, raise_exception_on_conflict=True)
    assert plugin.is_instrumented_by_opentelemetry
    plugin.instrument(tracer_provider=fresh.tracer_provider)
    assert [record.getMessage() for record in caplog.records] == ["llmtap: openai is already instrumented"]
    plugin.uninstrument()
    assert not plugin.is_instrumented_by_opentelemetry
