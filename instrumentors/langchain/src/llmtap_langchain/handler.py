"""The callback handler: LangChain runs to spans, parented by `parent_run_id`.

The handler never attaches an OpenTelemetry context itself (callbacks have no `finally` to pair a
detach with); spans are started under their parent run's span explicitly. Making a chat-model
span current while its provider SDK runs is done by `llmtap_langchain.context`, with paired attach
and detach around the model call; so is making a runnable's span current while its own function
runs (inside the context copy LangChain runs it in).
"""

from __future__ import annotations

import functools
import operator
import re
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import operations, runtime
from llmtap.content import json_text
from llmtap.invocation import Invocation
from llmtap.layers import ModelLayer
from llmtap.record import ABANDONED, CANCELLED, COMPLETED, ERROR, LLMCall, is_cancellation, stream_outcome
from llmtap.redaction import REDACTED, credential_name, scrub
from llmtap.refs import remember
from llmtap.runtime import Runtime
from llmtap.safety import report_internal_error
from llmtap_langchain import documents, messages, models
from llmtap_langchain.context import claim
from llmtap_langchain.runs import Ended, Run, Runs

TAG_ATTRIBUTE = "llmtap.langchain.tags"
METADATA_PREFIX = "llmtap.langchain.metadata."
RUN_ID_ATTRIBUTE = "llmtap.langchain.run_id"
# A run LangChain never reported the end of, ended with its parent run (or evicted: `llmtap_langchain.runs`).
UNFINISHED_ATTRIBUTE = "llmtap.langchain.unfinished"


def _scalar(value: Any) -> Any:
    """A metadata value as an attribute: never a credential (`llmtap.redaction`), never unbounded nesting."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bool | int | float):
        return value
    return scrub(json_text(value))


# The tags LangChain and LangGraph add to child runs themselves: a sequence's step, a parallel map's key,
# a branch and its conditions, a retry's attempt, a graph's superstep, LangSmith's markers (`langsmith:hidden`).
_INTERNAL_TAG = re.compile(
    r"seq:step:\d+|graph:step:\d+|map:key:.*|condition:\d+|branch:(?:\d+|default)|retry:attempt:\d+|langsmith:.*",
    re.DOTALL,
)


def _labels(tags: list[str] | None, metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The user's tags and metadata from the LangChain config: the tags LangChain adds itself and its own
    `ls_*` / `lc_*` / `langgraph_*` / `checkpoint_*` metadata keys left out."""
    attributes: dict[str, Any] = {}
    user_tags = {str(tag) for tag in tags or () if not _INTERNAL_TAG.fullmatch(str(tag))}
    if user_tags:
        attributes[TAG_ATTRIBUTE] = sorted(user_tags)
    for key, value in (metadata or {}).items():
        if key.startswith(("ls_", "lc_", "langgraph_", "checkpoint_")) or value is None:
            continue
        attributes[METADATA_PREFIX + key] = REDACTED if credential_name(key) else _scalar(value)
    thread = (metadata or {}).get("thread_id")  # LangGraph's conversation thread (`configurable.thread_id`)
    if isinstance(thread, str | int) and not isinstance(thread, bool) and str(thread):
        attributes[gen_ai.GEN_AI_CONVERSATION_ID] = scrub(str(thread))
    return attributes


def _name(serialized: dict[str, Any] | None, kwargs: dict[str, Any], default: str) -> str:
    return kwargs.get("name") or (serialized or {}).get("name") or default


def _guarded(where: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A callback that never raises: an internal error is reported once (`llmtap.safety`) and dropped."""

    def decorate(method: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(method)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                method(self, *args, **kwargs)
            except Exception as exc:
                report_internal_error(where, exc)

        return guarded

    return decorate


Record = Callable[[Runtime, Run, Any], None]


class LlmtapCallbackHandler(BaseCallbackHandler):
    """Injected into every LangChain callback manager by the instrumentor."""

    run_inline = True  # called in the caller's task: no executor hop for async runs
    raise_error = False

    def __init__(self) -> None:
        super().__init__()
        self._runs = Runs()

    # --- registry -------------------------------------------------------------------------------

    def run(self, run_id: UUID) -> Run | None:
        return self._runs.get(run_id)

    def _parent(self, parent_run_id: UUID | None) -> Run | None:
        return self._runs.get(parent_run_id)

    def _add(self, run_id: UUID, run: Run) -> None:
        evicted = self._runs.add(run_id, run)
        if evicted:
            self._end_unfinished(evicted, None)

    # --- one start and one end for every run ------------------------------------------------------

    def _start_step(
        self,
        operation: str,
        name: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        attributes: dict[str, Any],
        agent: str | None = None,
    ) -> tuple[Runtime, Run] | None:
        """Start a non-model step's span under its parent run's span and register the run.

        `agent`: the agent the step belongs to (default: its parent's).
        """
        state = runtime.current()
        if state is None:
            return None
        attributes.update(_labels(tags, metadata))
        attributes[RUN_ID_ATTRIBUTE] = str(run_id)
        parent = self._parent(parent_run_id)
        span = operations.start_operation(state, operation, name, parent and parent.span, attributes)
        agent = agent if agent is not None else (parent.agent if parent else None)
        run = Run(span, agent=agent, parent_id=parent_run_id if parent else None)
        self._add(run_id, run)
        return state, run

    def _end(self, run_id: UUID, error: BaseException | None, record: Record | None = None, output: Any = None) -> None:
        """End a run's span (model runs through their invocation); `record` writes the output first.

        Its descendants still open (LangChain never reported their end) are ended first.
        """
        ended = self._runs.pop(run_id)
        if not ended:
            return
        run = ended.pop()
        if ended:
            self._end_unfinished(ended, error)
        state = runtime.current()
        if record is not None and state is not None:
            try:
                record(state, run, output)
            except Exception as exc:
                report_internal_error("recording a LangChain result", exc)
        try:
            if run.invocation is not None:
                self._finish(run, error)
            else:
                operations.end_operation(state, run.span, error)
        except Exception as exc:
            report_internal_error("ending a LangChain span", exc)

    def _end_unfinished(self, runs: Ended, error: BaseException | None) -> None:
        """End runs whose end LangChain never reported: without an error (cancelled if their parent was)."""
        stopped = error if is_cancellation(error) else None
        state = runtime.current()
        for run in runs:
            try:
                if run.invocation is not None:
                    run.invocation.call.attributes[UNFINISHED_ATTRIBUTE] = True
                    if run.streaming or run.first_token is not None:
                        run.outcome = CANCELLED if stopped is not None else ABANDONED
                        if run.chunks and state is not None:
                            merged = functools.reduce(operator.add, run.chunks)
                            _record_stopped_stream(state, run, LLMResult(generations=[[merged]]))
                    self._finish(run, stopped)
                else:
                    if run.step_span is not None and run.step_span.is_recording():
                        run.step_span.set_attribute(UNFINISHED_ATTRIBUTE, True)
                    operations.end_operation(state, run.span, stopped)
            except Exception as exc:
                report_internal_error("ending an unfinished LangChain span", exc)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, inputs: Any = None, **kwargs: Any) -> None:
        # A streamed run's input arrives only now (its start had a placeholder).
        self._end(run_id, None, _record_chain_result, (inputs, outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        # A consumer closing a chain's stream early, or cancelling it, is no failure (`end_operation`).
        self._end(run_id, error)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    on_retriever_error = on_tool_error

    # --- chains, agents -------------------------------------------------------------------------

    @_guarded("starting a LangChain chain span")
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent = self._parent(parent_run_id)
        agent = (metadata or {}).get("lc_agent_name")
        if agent and (parent is None or parent.agent != agent):
            attributes = {gen_ai.GEN_AI_AGENT_NAME: agent}
            operation, name = operations.INVOKE_AGENT, agent
        else:
            name = _name(serialized, kwargs, "chain")
            attributes = {gen_ai.GEN_AI_WORKFLOW_NAME: name}
            operation, agent = operations.INVOKE_WORKFLOW, None
        started = self._start_step(operation, name, run_id, parent_run_id, tags, metadata, attributes, agent)
        if started is not None:
            state, run = started
            operations.add_input(state, run.span, messages.run_value(inputs), messages.run_messages(inputs))

    # --- tools ----------------------------------------------------------------------------------

    @_guarded("starting a LangChain tool span")
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _name(serialized, kwargs, "tool")
        attributes = {gen_ai.GEN_AI_TOOL_NAME: name, gen_ai.GEN_AI_TOOL_TYPE: "function"}
        description = (serialized or {}).get("description")
        if description:
            attributes[gen_ai.GEN_AI_TOOL_DESCRIPTION] = description
        if kwargs.get("tool_call_id"):
            attributes[gen_ai.GEN_AI_TOOL_CALL_ID] = kwargs["tool_call_id"]
        started = self._start_step(operations.EXECUTE_TOOL, name, run_id, parent_run_id, tags, metadata, attributes)
        if started is not None:
            state, run = started
            arguments = inputs if inputs is not None else input_str
            operations.add_content(state, run.span, gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS, arguments)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, _record_tool_result, output)

    # --- retrievers -----------------------------------------------------------------------------

    @_guarded("starting a LangChain retriever span")
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _name(serialized, kwargs, "retriever")
        attributes = {gen_ai.GEN_AI_DATA_SOURCE_ID: name}
        provider = (metadata or {}).get("ls_vector_store_provider")
        if provider:
            attributes[gen_ai.GEN_AI_PROVIDER_NAME] = str(provider)
        started = self._start_step(operations.RETRIEVAL, name, run_id, parent_run_id, tags, metadata, attributes)
        if started is not None:
            state, run = started
            operations.add_query(state, run.span, query)
            claim(run)  # current while the retriever runs: a vector store's embeddings span nests below

    def on_retriever_end(self, documents_: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, _record_documents, documents_)

    # --- chat models and LLMs -------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages_: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start_model("chat", serialized, run_id, parent_run_id, tags, metadata, kwargs, messages_[0])

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start_model("text_completion", serialized, run_id, parent_run_id, tags, metadata, kwargs, prompts)

    @_guarded("starting a LangChain model span")
    def _start_model(
        self,
        operation: str,
        serialized: dict[str, Any] | None,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
        inputs: Any,
    ) -> None:
        state = runtime.current()
        if state is None:
            return
        parent = self._parent(parent_run_id)
        metadata = metadata or {}
        params = kwargs.get("invocation_params") or {}
        capture = state.settings.capture_content
        call = LLMCall(
            provider=models.provider(metadata, serialized),
            operation=operation,
            request_model=models.model_name(metadata, params),
            capture_content=capture,
            request_attributes=models.request_attributes(metadata, params),
        )
        # The framework's facts: on this run's span, or on the model span(s) below it (`llmtap.layers`).
        facts = {RUN_ID_ATTRIBUTE: str(run_id), **_labels(tags, metadata), **models.hints(metadata, serialized)}
        call.attributes.update(facts)
        if capture:
            call.input_messages = messages.input_messages(inputs) if operation == "chat" else messages.prompts(inputs)
            call.tool_definitions = models.tool_definitions(params)
        # Deferred: a provider SDK call below makes the SDK's span this API call's model span, under this
        # run's parent; only a run no instrumented SDK call covered gets a model span of its own.
        context = trace.set_span_in_context(parent.span) if parent is not None else None
        invocation = Invocation(state.emitter, call, layer=ModelLayer(facts), parent=context, deferred=True)
        run = Run(None, invocation, parent.agent if parent else None, parent_run_id if parent else None)
        self._add(run_id, run)
        claim(run)

    def on_llm_new_token(self, token: str, *, run_id: UUID, chunk: Any = None, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        if run.first_token is None:
            run.first_token = time.perf_counter()
        if chunk is not None and run.invocation is not None and not run.invocation.covered:
            if run.chunks is None:
                run.chunks = []
            run.chunks.append(chunk)  # merged only if LangChain never reports the end (`_end_unfinished`)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, _record_model_result, response)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, response: Any = None, **kwargs: Any) -> None:
        """A stream its consumer stopped (closed early: abandoned; its task cancelled: cancelled) is no
        failure: it ends without an error and keeps what arrived (LangChain passes the merged chunks)."""
        run = self._runs.get(run_id)
        outcome = stream_outcome(error)
        if run is None or outcome == ERROR or not (run.streaming or run.first_token is not None):
            self._end(run_id, error)
            return
        run.outcome = outcome
        self._end(run_id, None, _record_stopped_stream, response)

    def stopped(self, run: Run, error: BaseException) -> None:
        """`run` was stopped without LangChain reporting its end (a cancelled `ainvoke`): end it now."""
        if run.run_id is not None:
            self.on_llm_error(error, run_id=run.run_id)

    def _finish(self, run: Run, error: BaseException | None) -> None:
        invocation = run.invocation
        assert invocation is not None
        call = invocation.call
        if run.first_token is not None or run.outcome is not None:
            call.streaming = True
            if run.first_token is not None:
                call.time_to_first_chunk = run.first_token - invocation.start
            call.stream_outcome = run.outcome or (COMPLETED if error is None else ERROR)
        invocation.end(error)  # covered by a model span below: no span (`llmtap.layers`)


# --- what each kind of run records when it ends -------------------------------------------------


def _record_tool_result(state: Runtime, run: Run, output: Any) -> None:
    if getattr(output, "tool_call_id", None):
        run.span.set_attribute(gen_ai.GEN_AI_TOOL_CALL_ID, output.tool_call_id)
    operations.add_content(state, run.span, gen_ai.GEN_AI_TOOL_CALL_RESULT, getattr(output, "content", output))


def _record_chain_result(state: Runtime, run: Run, inputs_outputs: tuple[Any, Any]) -> None:
    inputs, outputs = inputs_outputs
    if inputs is not None:
        operations.add_input(state, run.span, messages.run_value(inputs), messages.run_messages(inputs))
    operations.add_output(state, run.span, messages.run_value(outputs), messages.run_messages(outputs, output=True))


def _record_documents(state: Runtime, run: Run, documents_: Any) -> None:
    """Ids, scores and metadata always; the documents' text under the content policy."""
    operations.add_documents(state, run.span, documents.documents(documents_, state.settings.capture_content))


def _record_stopped_stream(state: Runtime, run: Run, response: Any) -> None:
    """The partial result of a stopped stream; no finish reason (none arrived), as the stream core records it."""
    if response is None:
        return
    _record_model_result(state, run, response, finish_reason="")
    call = run.invocation.call  # type: ignore[union-attr]
    # Stopped before any content arrived: no output message (as the stream core records it).
    call.output_messages = [msg for msg in call.output_messages or () if msg["parts"]] or None


def _record_model_result(state: Runtime, run: Run, response: Any, finish_reason: str = "stop") -> None:
    """`finish_reason`: the output messages' finish reason where the generation reports none."""
    call = run.invocation.call  # type: ignore[union-attr]
    generations = [item for batch in response.generations or () for item in batch]
    outputs, reasons = [], []
    for generation in generations:
        msg = getattr(generation, "message", None)
        metadata = getattr(msg, "response_metadata", None) or {}
        if call.response_model is None and metadata.get("model_name"):
            call.response_model = str(metadata["model_name"])
        usage = messages.usage(getattr(msg, "usage_metadata", None))
        if usage is not None:
            messages.add_usage(call.usage, usage)
        reason = messages.finish_reason(generation)
        if reason:
            reasons.append(reason)
        msg_id = metadata.get("id") or getattr(msg, "id", None)
        if call.response_id is None and msg_id and not str(msg_id).startswith(("lc_", "run-")):
            call.response_id = str(msg_id)
        if call.capture_content:
            outputs.append(messages.output_message(generation, finish_reason))
    llm_output = response.llm_output or {}
    if call.response_model is None and llm_output.get("model_name"):
        call.response_model = str(llm_output["model_name"])
    if call.usage.input_tokens is None and isinstance(llm_output.get("token_usage"), dict):
        token_usage = llm_output["token_usage"]
        call.usage.input_tokens = token_usage.get("prompt_tokens")
        call.usage.output_tokens = token_usage.get("completion_tokens")
    # Raw reasons here (the conventions allow it); the output messages carry the semconv ones.
    call.finish_reasons = reasons or None
    call.output_messages = outputs or None
    _remember_messages(run, generations)


def _remember_messages(run: Run, generations: list[Any]) -> None:
    """`llmtap.span_of(ai_message)` finds the call's model span: the SDK's when one covered the run, else the
    run's own."""
    invocation = run.invocation
    assert invocation is not None
    layer = invocation.layer
    if invocation.covered:
        context = layer.model_span if layer is not None else None
    else:
        context = invocation.span.get_span_context()
    if context is None:
        return
    for generation in generations:
        msg = getattr(generation, "message", None)
        if msg is not None:
            remember(msg, context)
