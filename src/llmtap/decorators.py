"""Decorators for application structure: `@llmtap.workflow`, `@llmtap.agent`, `@llmtap.tool`,
`@llmtap.retrieval`, producing the GenAI spans `invoke_workflow`, `invoke_agent`, `execute_tool` and
`retrieval`. They work on sync and async functions and on (async) generators; the span is current
while the function's code runs (so LLM calls inside nest under it) and ends with status ERROR when an
exception leaves it. Arguments and the return value (a generator's yielded items) are captured under
the content policy (`LLMTAP_CAPTURE_CONTENT`), truncated like every captured content: a workflow's or
agent's as its input and output (`llmtap.operations.add_input` / `add_output`), a tool's as the call's
arguments and result, a retrieval's as its query, arguments and documents.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import Span

from llmtap import operations, runtime
from llmtap.labels.wrapping import wrap
from llmtap.runtime import Runtime
from llmtap.safety import report_internal_error

F = TypeVar("F", bound=Callable[..., Any])

ARGUMENTS = "llmtap.function.arguments"


@dataclass(frozen=True, slots=True)
class _Kind:
    operation: str
    name_attribute: str | None
    arguments_attribute: str | None  # None: the span's input (workflow, agent)
    result_attribute: str | None  # None: the span's output


_WORKFLOW = _Kind(operations.INVOKE_WORKFLOW, gen_ai.GEN_AI_WORKFLOW_NAME, None, None)
_AGENT = _Kind(operations.INVOKE_AGENT, gen_ai.GEN_AI_AGENT_NAME, None, None)
_TOOL = _Kind(
    operations.EXECUTE_TOOL, gen_ai.GEN_AI_TOOL_NAME, gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS, gen_ai.GEN_AI_TOOL_CALL_RESULT
)
_RETRIEVAL = _Kind(operations.RETRIEVAL, None, ARGUMENTS, gen_ai.GEN_AI_RETRIEVAL_DOCUMENTS)


def _arguments(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return {"args": list(args), "kwargs": kwargs}
    return {name: value for name, value in bound.arguments.items() if name not in ("self", "cls")}


class _Open:
    __slots__ = ("runtime", "span")

    def __init__(self, span: Span, state: Runtime) -> None:
        self.span = span
        self.runtime = state


class _SpanScope:
    """A span per call of the decorated function (see `llmtap.labels.wrapping.Scope`), made by `llmtap.operations`."""

    @property
    def collect_items(self) -> bool:
        """A generator's yielded items are kept (for the result attribute) only when content is captured."""
        state = runtime.current()
        return state is not None and state.settings.capture_content

    def __init__(self, kind: _Kind, name: str, attributes: dict[str, Any], capture_query: bool) -> None:
        self.kind = kind
        self.name = name
        self.attributes = attributes
        self.capture_query = capture_query

    def open(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Open | None:
        try:
            state = runtime.ensure()
            if not state.settings.enabled:
                return None
            span = operations.start_operation(state, self.kind.operation, self.name, None, self.attributes)
            if state.settings.capture_content and span.is_recording():
                arguments = _arguments(func, args, kwargs)
                query = arguments.get("query")
                if self.capture_query and isinstance(query, str):
                    operations.add_query(state, span, query)
                if self.kind.arguments_attribute is None:
                    operations.add_input(state, span, arguments)
                else:
                    operations.add_content(state, span, self.kind.arguments_attribute, arguments)
            return _Open(span, state)
        except Exception as exc:
            report_internal_error(f"starting a {self.kind.operation} span", exc)
            return None

    def resume(self, state: _Open | None) -> object | None:
        if state is None:
            return None
        return otel_context.attach(trace.set_span_in_context(state.span))

    def suspend(self, state: _Open | None, token: object | None) -> None:
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]

    def close(self, state: _Open | None, error: BaseException | None, result: Any = None) -> None:
        if state is None:
            return
        try:
            if error is None and result is not None:
                _record_result(self.kind, state, result)
            operations.end_operation(state.runtime, state.span, error)
        except Exception as exc:
            report_internal_error(f"ending a {self.kind.operation} span", exc)


def _record_result(kind: _Kind, state: _Open, result: Any) -> None:
    if kind.result_attribute is None:
        operations.add_output(state.runtime, state.span, result)
    elif kind is _RETRIEVAL and isinstance(result, list) and all(isinstance(item, dict) for item in result):
        operations.add_documents(state.runtime, state.span, result)  # documents in the conventions' shape
    else:
        operations.add_content(state.runtime, state.span, kind.result_attribute, result)


def _decorator(
    kind: _Kind,
    func: Callable[..., Any] | None,
    name: str | None,
    attributes: dict[str, Any],
    capture_query: bool = False,
) -> Any:
    def decorate(target: F) -> F:
        span_name = name or getattr(target, "__name__", kind.operation)
        extra = dict(attributes)
        if kind.name_attribute is not None:
            extra[kind.name_attribute] = span_name
        scope = _SpanScope(
            kind, span_name, {key: value for key, value in extra.items() if value is not None}, capture_query
        )
        return wrap(target, scope)

    return decorate(func) if func is not None else decorate


@overload
def workflow(func: F, /) -> F: ...
@overload
def workflow(*, name: str | None = None) -> Callable[[F], F]: ...
def workflow(func: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """An `invoke_workflow {name}` span per call (`gen_ai.workflow.name`; name defaults to the function's)."""
    return _decorator(_WORKFLOW, func, name, {})


@overload
def agent(func: F, /) -> F: ...
@overload
def agent(
    *, name: str | None = None, description: str | None = None, agent_id: str | None = None, version: str | None = None
) -> Callable[[F], F]: ...
def agent(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    agent_id: str | None = None,
    version: str | None = None,
) -> Any:
    """An `invoke_agent {name}` span per call (`gen_ai.agent.name`, `.description`, `.id`, `.version`)."""
    attributes = {
        gen_ai.GEN_AI_AGENT_DESCRIPTION: description,
        gen_ai.GEN_AI_AGENT_ID: agent_id,
        gen_ai.GEN_AI_AGENT_VERSION: version,
    }
    return _decorator(_AGENT, func, name, attributes)


@overload
def tool(func: F, /) -> F: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, tool_type: str = "function"
) -> Callable[[F], F]: ...
def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    tool_type: str = "function",
) -> Any:
    """An `execute_tool {name}` span per call; arguments and result in `gen_ai.tool.call.arguments/result`."""
    attributes = {gen_ai.GEN_AI_TOOL_DESCRIPTION: description, gen_ai.GEN_AI_TOOL_TYPE: tool_type}
    return _decorator(_TOOL, func, name, attributes)


@overload
def retrieval(func: F, /) -> F: ...
@overload
def retrieval(*, name: str | None = None, data_source_id: str | None = None) -> Callable[[F], F]: ...
def retrieval(
    func: Callable[..., Any] | None = None, /, *, name: str | None = None, data_source_id: str | None = None
) -> Any:
    """A `retrieval {name}` span per call; a `query` string argument goes to `gen_ai.retrieval.query.text`,
    the result to `gen_ai.retrieval.documents`."""
    return _decorator(_RETRIEVAL, func, name, {gen_ai.GEN_AI_DATA_SOURCE_ID: data_source_id}, capture_query=True)
