"""Writes `src/llmtap/demo/recordings.json`: the responses `llmtap demo` plays back, built with the suite's
exact-wire builders (every body checked against the SDKs' own types). Run: `python -m tests.demo.make_recordings`.

`tests/demo/test_recordings.py` checks that the file is what this produces and that every body is exact.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from openai.types.chat import ChatCompletion

from llmtap.demo import app, traffic
from tests.support import anthropic_wire, openai_wire
from tests.support.wire import check

TARGET = Path(__file__).resolve().parents[2] / "src" / "llmtap" / "demo" / "recordings.json"
CHAT_PATH, MESSAGES_PATH = "/v1/chat/completions", "/v1/messages"
SUMMARY_MODEL = "claude-haiku-4-5-20251001"

# What the model answered, by prompt version and question (v2's prompt asks for short, friendly, sourced answers).
ANSWERS = {
    ("v1", traffic.RETURNS): "Bikes can be returned within 30 days. Unused bikes get a full refund; ridden bikes "
    "get store credit minus a 10% restocking fee.",
    ("v2", traffic.RETURNS): "Yes! Three weeks is within our 30-day window: unused, you get a full refund, and if "
    "you've ridden it, store credit minus a 10% restocking fee (Returns policy).",
    ("v1", traffic.SIZING): "Sizes: S 155-165 cm, M 165-178 cm, L 178-190 cm, XL above 190 cm.",
    ("v2", traffic.SIZING): "At 172 cm you're right in the M range (165-178 cm), so M is the one for you "
    "(Sizing guide).",
    ("v1", traffic.RANGE): "The battery is 500 Wh. Charging takes 4.5 hours.",
    ("v2", traffic.RANGE): "Between 60 and 120 km on a charge, depending on assist level, terrain and rider weight "
    "(E-bike battery policy).",
    ("v1", traffic.WARRANTY): "Frames have a lifetime warranty; components are covered for 2 years.",
    ("v2", traffic.WARRANTY): "A crack from a manufacturing defect is covered by the lifetime frame warranty for "
    "the first owner; crash damage isn't (Warranty policy).",
    ("v1", traffic.SERVICE): "No, the first service within 6 months of delivery is free at any partner workshop.",
    ("v2", traffic.SERVICE): "Good news: your first service within 6 months of delivery is free at any partner "
    "workshop (Service policy).",
}
ORDER_ANSWERS = {
    traffic.ORDER_SHIPPED: (
        "VB-1042",
        "Your order VB-1042 has shipped with DHL (tracking JD014600003813) and should arrive on December 2.",
    ),
    traffic.ORDER_PACKING: (
        "VB-2077",
        "Not yet: order VB-2077 is being packed and is expected to arrive on December 4.",
    ),
}
OVERLOADED = ("v2", traffic.SERVICE)  # Claude answers this summary request with 529 overloaded_error
SUMMARIES = {
    traffic.RETURNS: "Asked about returning a 3-week-old bike; explained the 30-day return policy.",
    traffic.SIZING: "Asked which frame size fits 172 cm; gave the sizing guide.",
    traffic.RANGE: "Asked about e-bike range; answered from the battery policy.",
    traffic.WARRANTY: "Asked whether a cracked frame is covered; explained the frame warranty.",
    traffic.SERVICE: "Asked about the cost of the first service; it is free within 6 months.",
    traffic.ORDER_SHIPPED: "Asked where order VB-1042 is; it has shipped with DHL, ETA December 2.",
    traffic.ORDER_PACKING: "Asked whether order VB-2077 shipped; it is being packed, ETA December 4.",
}


def _tokens(text: str) -> int:
    return max(1, round(len(text) / 4))


def _delay(key: str, low: float, high: float) -> float:
    """A latency between `low` and `high` seconds, fixed per recording."""
    return round(low + (zlib.crc32(key.encode()) % 1000) / 1000 * (high - low), 3)


def _recording(path: str, match: list[str], body: Any, *, status: int = 200, delay: float = 0.0, headers=None):
    return {
        "method": "POST",
        "path": path,
        "match": match,
        "status": status,
        "body": body,
        "headers": headers or {},
        "delay": delay,
    }


def _chat(number: int, content: str | None, prompt: str, **extra: Any) -> dict[str, Any]:
    usage = openai_wire.chat_usage(_tokens(prompt), _tokens(content or json.dumps(extra.get("tool_calls"))))
    body = openai_wire.chat_completion(
        content or "",
        completion_id=f"chatcmpl-DemoVelora{number:04d}",
        finish_reason="tool_calls" if extra.get("tool_calls") else "stop",
        usage=usage,
    )
    if extra.get("tool_calls"):
        body["choices"][0]["message"]["content"] = None
        body["choices"][0]["message"]["tool_calls"] = extra["tool_calls"]
    return check(ChatCompletion, body)


def _rag(number: int, version: str, question: str) -> dict[str, Any]:
    documents = app.PolicyRetriever().invoke(question)
    context = "\n".join(f"[{doc.id}] {doc.page_content}" for doc in documents)
    prompt = app.PROMPTS[version].format(context=context) + question
    answer = ANSWERS[(version, question)]
    marker = app.PROMPTS[version][:40]
    delay = _delay(f"{version}{question}", 0.12, 0.32 if version == "v2" else 0.24)
    return _recording(CHAT_PATH, [marker, question], _chat(number, answer, prompt), delay=delay)


def _order(number: int, question: str) -> list[dict[str, Any]]:
    order_id, answer = ORDER_ANSWERS[question]
    call_id = f"call_DemoVelora{number:04d}"
    tool_calls = [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": "get_order_status", "arguments": json.dumps({"order_id": order_id})},
        }
    ]
    prompt = json.dumps(app.ORDER_TOOL) + question
    result = json.dumps(app.ORDERS[order_id])
    return [  # the answer after the tool result first: its request also holds the question
        _recording(CHAT_PATH, [question, call_id], _chat(number + 1, answer, prompt + result), delay=0.15),
        _recording(CHAT_PATH, [question], _chat(number, None, prompt, tool_calls=tool_calls), delay=0.11),
    ]


def _summary(number: int, question: str, answer: str, overloaded: bool) -> dict[str, Any]:
    if overloaded:
        body = anthropic_wire.error("overloaded_error", "Overloaded")
        headers = {"request-id": body["request_id"]}
        return _recording(MESSAGES_PATH, [answer], body, status=529, delay=0.04, headers=headers)
    text = SUMMARIES[question]
    usage = anthropic_wire.usage(_tokens(question + answer) + 18, _tokens(text))
    body = anthropic_wire.message(
        [{"type": "text", "text": text, "citations": None}],
        id=f"msg_01DemoVelora{number:04d}",
        usage=usage,
        model=SUMMARY_MODEL,
    )
    return _recording(MESSAGES_PATH, [answer], body, delay=_delay(answer, 0.05, 0.12))


def recordings() -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    for number, turn in enumerate(traffic.TURNS, 1):
        version, question = turn.customer.prompt_version, turn.question
        if question in ORDER_ANSWERS:
            items += _order(number * 10, question)
            answer = ORDER_ANSWERS[question][1]
        else:
            items.append(_rag(number * 10, version, question))
            answer = ANSWERS[(version, question)]
        summaries.append(_summary(number, question, answer, (version, question) == OVERLOADED))
    return {"recordings": items + summaries}


def render() -> str:
    return json.dumps(recordings(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")
