"""Strict wire-format checks: a JSON body against the SDK's own pydantic type (openai and anthropic).

The SDK models accept unknown keys and tolerate missing ones at runtime, so a hand-written body could
drift from what the API sends without anything failing. `problems` walks the JSON and the type side by
side: every key must be a declared field (by its wire alias), every required field must be present,
literals must match, unions are resolved by their `type` / `object` discriminator. `check` is the
assertion the body builders (tests/support/openai_wire.py, anthropic_wire.py, the benchmarks) use.
Cassette bodies are read with `interactions` and `sse_events`, `response_type` names the model for an
endpoint and `payload_problems` checks one recorded response (error envelope, JSON body or SSE stream).
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, TypeAdapter

_DISCRIMINATORS = ("type", "object")
_NONE = type(None)


def _strip(annotation: Any) -> tuple[Any, str | None]:
    """`Annotated[X, PropertyInfo(discriminator=...)]` -> (X, discriminator)."""
    discriminator = None
    while typing.get_origin(annotation) is Annotated:
        for meta in annotation.__metadata__:
            discriminator = getattr(meta, "discriminator", None) or discriminator
        annotation = typing.get_args(annotation)[0]
    return annotation, discriminator


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (Union, types.UnionType)


def _literal_values(model: type[BaseModel], key: str) -> tuple[Any, ...]:
    field = model.model_fields.get(key)
    if field is None:
        return ()
    annotation, _ = _strip(field.annotation)
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    return ()


def _wire_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _union(value: Any, members: list[Any], discriminator: str | None, path: str) -> list[str]:
    if value is None:
        return [] if _NONE in members else [f"{path}: null is not allowed"]
    members = [member for member in members if member is not _NONE]
    if len(members) == 1:
        return problems(value, members[0], path)
    if isinstance(value, dict):
        models = [_strip(member)[0] for member in members]
        models = [model for model in models if isinstance(model, type) and issubclass(model, BaseModel)]
        for key in (discriminator, *_DISCRIMINATORS) if discriminator else _DISCRIMINATORS:
            if key is None or key not in value:
                continue
            matching = [model for model in models if value[key] in _literal_values(model, key)]
            if len(matching) == 1:
                return problems(value, matching[0], path)
            if not matching and all(_literal_values(model, key) for model in models):
                return [f"{path}.{key}: {value[key]!r} names none of {[model.__name__ for model in models]}"]
    best: list[str] | None = None
    for member in members:
        found = problems(value, member, path)
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = found
    return best or [f"{path}: matches no member of the union"]


def _scalar(value: Any, annotation: Any, path: str) -> list[str]:
    if annotation is Any or annotation is object:
        return []
    if annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation in (str, bool):
        ok = isinstance(value, annotation)
    else:
        return []  # other leaf types (datetime, ...) are left to pydantic
    return [] if ok else [f"{path}: {value!r} is not a {annotation.__name__}"]


def problems(value: Any, annotation: Any, path: str = "$") -> list[str]:
    """Every way `value` (parsed JSON) departs from `annotation` (an SDK type); empty when it fits."""
    annotation, discriminator = _strip(annotation)
    if _is_union(annotation):
        return _union(value, list(typing.get_args(annotation)), discriminator, path)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {annotation.__name__}, got {value!r}"]
        fields = _wire_fields(annotation)
        found = [f"{path}.{key}: not a field of {annotation.__name__}" for key in value if key not in fields]
        found += [
            f"{path}.{key}: required field of {annotation.__name__} missing"
            for key, field in fields.items()
            if field.is_required() and key not in value
        ]
        for key, item in value.items():
            if key in fields:
                found += problems(item, fields[key].annotation, f"{path}.{key}")
        return found
    origin = typing.get_origin(annotation)
    if origin is Literal:
        allowed = typing.get_args(annotation)
        return [] if value in allowed else [f"{path}: {value!r} not one of {allowed}"]
    if origin in (list, typing.List, tuple):  # noqa: UP006 - the SDK's own spelling
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        (item_type, *_) = typing.get_args(annotation) or (Any,)
        return [
            problem for index, item in enumerate(value) for problem in problems(item, item_type, f"{path}[{index}]")
        ]
    if origin in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        args = typing.get_args(annotation)
        item_type = args[1] if len(args) == 2 else Any
        return [problem for key, item in value.items() for problem in problems(item, item_type, f"{path}.{key}")]
    if value is None:
        return [] if annotation in (None, _NONE) else [f"{path}: null is not allowed"]
    return _scalar(value, annotation, path)


def sse_events(body: str) -> Iterator[tuple[str | None, str]]:
    """(event name, data) for each server-sent event in `body`."""
    for block in body.replace("\r\n", "\n").split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            yield event, "\n".join(data)


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def check(annotation: Any, body: Any) -> Any:
    """`body` unchanged, once it fits `annotation` exactly (`problems`) and the SDK parses it (strict mode)."""
    found = problems(body, annotation)
    assert not found, "wire format drift:\n" + "\n".join(found)
    _adapter(annotation).validate_python(body, strict=True)
    return body


def interactions(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["interactions"]


_ANTHROPIC_ENDPOINTS = ("/messages", "/messages/count_tokens")


class AnthropicPing(BaseModel):
    """`event: ping`: the keep-alive the Messages API interleaves in a stream (the SDK skips it untyped)."""

    type: Literal["ping"]


def _members(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(_strip(annotation)[0])


def response_type(url_path: str, streamed: bool, *, beta: bool = False) -> Any:
    """The SDK model one JSON payload of this endpoint's response (or of one stream event) must fit.

    `beta` picks the anthropic `client.beta.messages` types (the beta endpoints share the URL path).
    """
    endpoint = url_path.removeprefix("/v1")
    if endpoint in _ANTHROPIC_ENDPOINTS:
        from anthropic.types import Message, MessageTokensCount, RawMessageStreamEvent
        from anthropic.types.beta import BetaMessage, BetaMessageTokensCount, BetaRawMessageStreamEvent

        if endpoint == "/messages/count_tokens":
            return BetaMessageTokensCount if beta else MessageTokensCount
        if not streamed:
            return BetaMessage if beta else Message
        # A stream may also carry `ping` keep-alives and an `error` event (an overload mid-stream).
        events = _members(BetaRawMessageStreamEvent if beta else RawMessageStreamEvent)
        return Union[(*events, AnthropicPing, _error_type(url_path, beta))]

    from openai.types import Completion, CreateEmbeddingResponse
    from openai.types.chat import ChatCompletion, ChatCompletionChunk
    from openai.types.responses import Response, ResponseStreamEvent

    if endpoint == "/chat/completions":
        return ChatCompletionChunk if streamed else ChatCompletion
    if endpoint == "/responses":
        return ResponseStreamEvent if streamed else Response
    if endpoint == "/completions":
        return Completion
    if endpoint == "/embeddings":
        return CreateEmbeddingResponse
    raise KeyError(f"no response type known for {url_path}")


class ErrorBody(BaseModel):
    """The error envelope every OpenAI endpoint answers with: `{"error": ErrorObject}`."""

    error: Any


def _error_type(url_path: str, beta: bool = False) -> Any:
    if url_path.removeprefix("/v1") in _ANTHROPIC_ENDPOINTS:
        # `{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}`
        from anthropic.types import BetaErrorResponse, ErrorResponse

        return BetaErrorResponse if beta else ErrorResponse
    return ErrorBody


def error_problems(body: Any, url_path: str = "/v1/chat/completions", *, beta: bool = False) -> list[str]:
    """Problems of an error body: OpenAI's `{"error": {...}}` or anthropic's `{"type": "error", ...}`."""
    kind = _error_type(url_path, beta)
    found = problems(body, kind)
    if found:
        return found
    if kind is ErrorBody:
        from openai.types.shared import ErrorObject

        found = problems(body["error"], ErrorObject, "$.error")
        # The API always sends all four keys (null when not applicable).
        return found + [
            f"$.error.{key}: missing" for key in ("message", "type", "param", "code") if key not in body["error"]
        ]
    # The Messages API always names the request (`request_id`), though the SDK type lets it be absent.
    return [] if "request_id" in body else ["$.request_id: missing"]


# The SDK parses legacy `/completions` stream chunks with `Completion`, whose `finish_reason` is typed
# non-null; the API sends null on every chunk but the last. That one departure is expected.
_STREAM_ALLOWANCES = {
    "/completions": frozenset({"$.choices[0].finish_reason: None not one of ('stop', 'length', 'content_filter')"})
}


def payload_problems(url_path: str, status: int, content_type: str, body: str, *, beta: bool = False) -> list[str]:
    """Problems of one recorded response body: error envelope, JSON body or each SSE data payload."""
    if status >= 400:
        return error_problems(json.loads(body), url_path, beta=beta)
    if content_type.startswith("text/event-stream"):
        model = response_type(url_path, streamed=True, beta=beta)
        allowed = _STREAM_ALLOWANCES.get(url_path.removeprefix("/v1"), frozenset())
        found = []
        for index, (event, data) in enumerate(sse_events(body)):
            if data == "[DONE]":
                continue
            payload = json.loads(data)
            where = f"event {index}"
            if event is not None and payload.get("type") != event:
                found.append(f"{where}: `event: {event}` but data type {payload.get('type')!r}")
            found += [f"{where} {problem}" for problem in problems(payload, model) if problem not in allowed]
        return found
    return problems(json.loads(body), response_type(url_path, streamed=False, beta=beta))


def header(headers: dict[str, list[str]], name: str) -> str:
    """The first value of header `name` (any case) in a cassette's header map."""
    return next(values[0] for key, values in headers.items() if key.lower() == name)


def interaction_problems(interaction: dict[str, Any], *, beta: bool = False) -> list[str]:
    """`payload_problems` of one recorded cassette interaction's response."""
    request, response = interaction["request"], interaction["response"]
    return payload_problems(
        urlparse(request["uri"]).path,
        response["status"]["code"],
        header(response["headers"], "content-type"),
        response["body"]["string"],
        beta=beta,
    )
