"""Every attribute llmtap writes on a model span is a semantic convention's name (the installed
`opentelemetry-semantic-conventions`) or one of ours under `llmtap.*`; the `anthropic.*` names are those the anthropic
SDK's own spans use (llmtap's span takes their place). Checked on real SDK calls over the loopback API."""

from __future__ import annotations

import importlib
import pkgutil

from opentelemetry.semconv._incubating import attributes as incubating

import anthropic
import openai
from llmtap.testing import Capture
from tests.support import anthropic_wire
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply


def convention_names() -> set[str]:
    names = set()
    for module in pkgutil.iter_modules(incubating.__path__):
        found = importlib.import_module(f"{incubating.__name__}.{module.name}")
        names.update(value for key, value in vars(found).items() if key.isupper() and isinstance(value, str))
    return names


def test_model_span_attributes_are_the_conventions_or_ours() -> None:
    message = anthropic_wire.message([{"type": "text", "text": "Bonjour"}], usage=anthropic_wire.usage(10, 3))
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    with LoopbackAPI() as api, Capture() as capture:
        api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("{}")))
        api.route("POST", "/v1/responses", Reply(body=wire.response("Hi.")))
        api.route("POST", "/v1/messages", Reply(body=message))
        client = openai.OpenAI(api_key="sk-test-names", base_url=f"{api.base_url}/v1", max_retries=0)
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
            temperature=1,
            top_p=0.5,
            seed=3,
            stop=["x"],
            max_tokens=20,
            tools=tools,
            response_format={"type": "json_object"},
            service_tier="default",
        )
        client.responses.create(model="gpt-4.1-mini", input="hi", instructions="Be brief.")
        claude = anthropic.Anthropic(api_key="sk-ant-test-names", base_url=api.base_url, max_retries=0)
        claude.messages.create(
            model="claude-haiku-4-5", max_tokens=10, system="Be brief.", messages=[{"role": "user", "content": "hi"}]
        )
        api.route(
            "POST",
            "/v1/chat/completions",
            Reply(404, wire.error_body("no such model", kind="invalid_request_error", code="model_not_found")),
        )
        try:
            client.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "hi"}])
        except openai.NotFoundError:
            pass
        spans = capture.spans()
    assert [span.name for span in spans] == [
        "chat gpt-4o-mini",
        "chat gpt-4.1-mini",
        "chat claude-haiku-4-5",
        "chat gpt-nope",
    ]
    known = convention_names()
    outside = sorted(
        {
            name
            for span in spans
            for name in span.attributes
            if name not in known and not name.startswith("llmtap.") and not name.startswith("anthropic.")
        }
    )
    assert outside == []
    assert spans[0].attributes["llmtap.openai.response_format"] == "json_object"
    assert spans[0].attributes["gen_ai.output.type"] == "json"
