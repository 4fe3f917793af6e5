"""Offline demo of llmtap: every part of it, against a local fake of the OpenAI and Anthropic APIs.

No API key, no network: a loopback server answers in the exact wire format of the public APIs (the fake
lives with the tests, in tests/support). Run it with `PYTHONPATH=. .venv/bin/python examples/demo.py`. The parts:

    demo_openai.py     1. OpenAI: chat, tool calls, streams (read fully / abandoned), async, Responses API, error
    demo_anthropic.py  2. Anthropic: system prompt, streamed tool use, thinking and cache-token usage
    demo_langchain.py  3. LangChain: a RAG chain over a real retriever and ChatOpenAI, as one span tree
    demo_labels.py     4. Labels: process labels, llmtap.tags(...), the label schema, llmtap.current_tags()
    demo_manual.py     5. The manual LLMTracer API and the @workflow / @tool / @retrieval decorators
                       6. llmtap.span_of(response) and the metrics (below)
"""

from __future__ import annotations

import demo_anthropic
import demo_labels
import demo_langchain
import demo_manual
import demo_openai
from demo_output import Telemetry, app, header, show_llmtap_log
from tests.support.loopback import LoopbackAPI

import llmtap

# Settings in place of a config file (the same keys as [tool.llmtap] in pyproject.toml).
CONFIG = {
    "tags": {"deployment": "demo"},  # process labels, like LLMTAP_TAGS=deployment=demo: on every span
    "labels": demo_labels.SCHEMA,  # the label schema; labels_mode is "warn" by default
}


def span_named(telemetry: Telemetry, ref: llmtap.SpanRef) -> str:
    for span in telemetry.all_spans():
        if (format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")) == tuple(ref):
            return span.name
    return "(no such span)"


def main() -> None:
    show_llmtap_log()
    telemetry = Telemetry()
    # Instrumented once, for the whole demo: every installed plugin (openai, anthropic, langchain).
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config=CONFIG)
    try:
        with LoopbackAPI() as api:
            demo_openai.serve(api)
            demo_anthropic.serve(api)
            demo_openai.run(api, telemetry)
            demo_anthropic.run(api, telemetry)
            demo_langchain.run(api, telemetry)
            demo_labels.run(api, telemetry)
            reply = demo_manual.run(api, telemetry)

            header(6, "llmtap.span_of(response), and the metrics of the whole demo")
            ref = llmtap.span_of(reply)
            app("llmtap.span_of(reply) =", ref)
            app("that is the exported span", repr(span_named(telemetry, ref)))
            stream = demo_openai.client(api).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me about Paris"}], stream=True
            )
            ref = llmtap.span_of(stream)
            app("llmtap.span_of(stream) =", ref)
            app("stream:", "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices))
            app("that is the exported span", repr(span_named(telemetry, ref)))
            telemetry.new_spans()  # (the stream's span was shown above by name; no tree for part 6)
    finally:
        llmtap.uninstrument()
    print("\n  metrics exported (cumulative over the demo):")
    telemetry.print_metrics()


if __name__ == "__main__":
    main()
