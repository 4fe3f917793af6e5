"""Response bodies for the OpenAI cassettes (exact public wire format)."""

import json

CREATED = 1795740371  # 2026-11-27
CHAT_MODEL = "gpt-4o-mini-2024-07-18"
FP = "fp_560af6e559"


def usage_chat(prompt, completion, cached=0, reasoning=0):
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(cid, choices, usage, model=CHAT_MODEL, tier="default"):
    return {
        "id": cid,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": choices,
        "usage": usage,
        "service_tier": tier,
        "system_fingerprint": FP,
    }


def message(content, tool_calls=None):
    m = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    if tool_calls is not None:
        m["tool_calls"] = tool_calls
    return m


def choice(index, msg, finish):
    return {"index": index, "message": msg, "logprobs": None, "finish_reason": finish}


def tool_call(cid, name, args):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def chunk(cid, delta, finish=None, obf="", usage_field=False, model=CHAT_MODEL):
    c = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": FP,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage_field:
        c["usage"] = None
    c["obfuscation"] = obf
    return c


def sse_chat(chunks):
    return "".join(f"data: {json.dumps(c, separators=(',', ':'))}\n\n" for c in chunks) + "data: [DONE]\n\n"


def sse_events(events):
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n" for e in events)
