"""LangChain `Embeddings` to `embeddings {model}` spans (LangChain emits no callbacks for them).

Every `Embeddings` subclass gets its own `embed_documents` / `embed_query` / `aembed_documents` /
`aembed_query` wrapped: the classes that exist when langchain-core is patched, and, through a hook on
`Embeddings.__init_subclass__`, the classes defined later. Only the methods a class defines itself are
wrapped; an inherited one is already wrapped where it is defined.

One call, one span: an embeddings span opened in this context (an `embed_query` calling
`embed_documents`, the default `aembed_*` running the sync method in an executor, a subclass calling
`super()`) hides the methods it calls. The span is a model call with a model-call layer
(`llmtap.layers`) open while the embeddings code runs, and deferred: an instrumented SDK call below
(the OpenAI embeddings endpoint behind `OpenAIEmbeddings`) is the API call's one model span, with this
call's facts (class, input count) copied onto it; an embeddings class reaching no instrumented SDK
gets its own span, with its metrics.

No text is recorded: the inputs are not messages. The span has the input count
(`llmtap.langchain.embeddings.input_count`) and the vectors' dimension (`gen_ai.embeddings.dimension.count`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import layers, runtime
from llmtap.invocation import Invocation
from llmtap.plugin import LlmtapInstrumentor
from llmtap.record import LLMCall
from llmtap.safety import report_internal_error
from llmtap_langchain import models

OPERATION = "embeddings"
INPUT_COUNT = "llmtap.langchain.embeddings.input_count"
METHODS = ("embed_documents", "embed_query", "aembed_documents", "aembed_query")
_QUERY_METHODS = ("embed_query", "aembed_query")
# Packages whose name says nothing about the provider (the class name does).
_GENERIC_PACKAGES = {"langchain", "langchain_core", "langchain_community", "langchain_classic"}
_MODEL_FIELDS = ("model", "model_name", "model_id")

_inside: ContextVar[bool] = ContextVar("llmtap_langchain_embeddings", default=False)


def provider(cls: type) -> str:
    """`langchain_openai` -> openai (`AzureOpenAIEmbeddings` -> azure.ai.openai); else the class name
    without its `Embeddings` suffix, lower-cased, as LangChain names the provider of a chat model."""
    package = cls.__module__.split(".", 1)[0]
    name = cls.__name__
    if name.startswith("Azure"):
        found = "azure"
    elif package.startswith("langchain_") and package not in _GENERIC_PACKAGES:
        found = package.removeprefix("langchain_")
    else:
        found = name.removesuffix("Embeddings").removesuffix("Embedding").lower() or "langchain"
    return models.provider({"ls_provider": found}, None)


def model(instance: Any) -> str | None:
    for field in _MODEL_FIELDS:
        value = getattr(instance, field, None)
        if isinstance(value, str) and value:
            return value
    return None


class EmbeddingsSpan:
    """The span of one embeddings call, as a context manager around the call; a no-op when another
    embeddings span of this context is open or llmtap is not instrumented. Never raises."""

    __slots__ = ("args", "instance", "invocation", "kwargs", "method", "result", "tokens")

    def __init__(self, instance: Any, method: str, args: Any, kwargs: Any) -> None:
        self.instance, self.method, self.args, self.kwargs = instance, method, args, kwargs
        self.invocation: Invocation | None = None
        self.tokens: tuple[object, Token[Any], Token[bool]] | None = None
        self.result: Any = None

    def __enter__(self) -> EmbeddingsSpan:
        if _inside.get() or self.instance is None:
            return self
        state = runtime.current()
        if state is None:
            return self
        try:
            self._start(state)
        except Exception as exc:
            report_internal_error("starting a LangChain embeddings span", exc)
        return self

    def _start(self, state: runtime.Runtime) -> None:
        call = LLMCall(provider=provider(type(self.instance)), operation=OPERATION, request_model=model(self.instance))
        call.capture_content = False
        facts: dict[str, Any] = {models.MODEL_CLASS: type(self.instance).__name__}
        if self.method in _QUERY_METHODS:
            facts[INPUT_COUNT] = 1
        else:
            texts = self.kwargs.get("texts", self.args[0] if self.args else None)
            if hasattr(texts, "__len__"):
                facts[INPUT_COUNT] = len(texts)
        call.attributes.update(facts)
        layer = layers.ModelLayer(facts)
        invocation = self.invocation = Invocation(state.emitter, call, layer=layer, deferred=True)
        context_token = otel_context.attach(trace.set_span_in_context(invocation.context_span))
        self.tokens = (context_token, layers.enter(layer), _inside.set(True))

    def returned(self, result: Any) -> Any:
        self.result = result
        return result

    def __exit__(self, exc_type: Any, error: BaseException | None, traceback: Any) -> None:
        invocation = self.invocation
        if invocation is None:
            return
        try:  # leave the context first, always
            if self.tokens is not None:
                context_token, layer_token, inside_token = self.tokens
                self.tokens = None
                _inside.reset(inside_token)
                layers.leave(layer_token)
                Invocation.deactivate(context_token)
            result = self.result
            vector = result if self.method in _QUERY_METHODS else (result[0] if result else None)
            if error is None and isinstance(vector, list | tuple) and vector:
                invocation.call.attributes[gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)
        except Exception as exc:
            report_internal_error("recording a LangChain embeddings result", exc)
        invocation.end(error)  # covered by a model span below: no span (`llmtap.layers`)


def _sync_wrapper(method: str) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with EmbeddingsSpan(instance, method, args, kwargs) as span:
            return span.returned(wrapped(*args, **kwargs))

    return wrapper


def _async_wrapper(method: str) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with EmbeddingsSpan(instance, method, args, kwargs) as span:
            return span.returned(await wrapped(*args, **kwargs))

    return wrapper


_WRAPPERS: dict[tuple[str, bool], Callable[..., Any]] = {
    (method, is_async): (_async_wrapper if is_async else _sync_wrapper)(method)
    for method in METHODS
    for is_async in (False, True)
}


def wrap_class(instrumentor: LlmtapInstrumentor, cls: type) -> None:
    """Wrap the embeddings methods `cls` defines itself (abstract ones left alone)."""
    own = vars(cls)
    for method in METHODS:
        function = own.get(method)
        if not inspect.isfunction(function) or getattr(function, "__isabstractmethod__", False):
            continue
        instrumentor.wrap_attribute(cls, method, _WRAPPERS[method, inspect.iscoroutinefunction(function)])


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    pending = [cls]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return found


def patch(instrumentor: LlmtapInstrumentor) -> None:
    from langchain_core.embeddings import Embeddings

    for cls in [Embeddings, *_subclasses(Embeddings)]:
        wrap_class(instrumentor, cls)

    def init_subclass_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            cls = instance if isinstance(instance, type) else getattr(wrapped, "__self__", None)
            if isinstance(cls, type) and issubclass(cls, Embeddings):
                wrap_class(instrumentor, cls)
        except Exception as exc:
            report_internal_error("wrapping a LangChain Embeddings subclass", exc)
        return result

    instrumentor.wrap_attribute(Embeddings, "__init_subclass__", init_subclass_wrapper)
