"""Part 5 · The manual API (`llmtap.LLMTracer`) and the decorators `@llmtap.workflow`, `@llmtap.tool`,
`@llmtap.retrieval`.
"""

from __future__ import annotations

import demo_openai
from demo_output import Telemetry, app, header
from tests.support.loopback import LoopbackAPI

import llmtap

demo_openai.ANSWERS["Answer from"] = "Take an umbrella: it is raining in Oslo."


def run(api: LoopbackAPI, telemetry: Telemetry):
    """Returns the last SDK response, for `llmtap.span_of` in part 6."""
    header(5, "The manual LLMTracer API (for calls no plugin covers) and @workflow / @tool / @retrieval")

    # The seed example, verbatim: a call to a model no plugin covers, recorded by hand.
    tracer = llmtap.LLMTracer()
    with tracer.trace_llm_call(
        model_name="gpt-4", prompt="What is the capital of France?", tags={"user_id": "u1", "app_feature": "qa"}
    ) as span:
        span.set_response("Paris is the capital of France.")
        span.set_tag("human_feedback", "good")
        span.set_usage(input_tokens=8, output_tokens=7)
        print(span.ref)

    client = demo_openai.client(api)
    kept = {}

    @llmtap.retrieval(data_source_id="travel-notes")
    def search_notes(query: str) -> list[dict]:
        return [{"id": "note-7", "score": 0.8, "content": "Pack light for Oslo."}]

    @llmtap.tool(description="Current weather for a city")
    def get_weather(city: str) -> str:
        return "rain, 9 °C"

    @llmtap.workflow(name="trip_advice")
    def trip_advice(city: str) -> str:
        notes = search_notes(f"travel to {city}")
        weather = get_weather(city)
        reply = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Answer from: {notes[0]['content']} Weather: {weather}. Advice?"}],
        )
        kept["reply"] = reply  # for llmtap.span_of in part 6
        return reply.choices[0].message.content

    app("trip_advice('Oslo') =", repr(trip_advice("Oslo")))
    telemetry.show_new_spans()
    return kept["reply"]
