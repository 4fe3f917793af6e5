"""The process-wide llmtap runtime: resolved settings and the emitter every plugin writes through."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, NamedTuple

import wrapt
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from llmtap import content, providers, redaction
from llmtap.config import Settings, load_settings
from llmtap.cost.pricer import Pricer
from llmtap.emitter import Emitter
from llmtap.labels import policy as label_policy
from llmtap.metrics import GenAIMetrics
from llmtap.problems import report_once
from llmtap.safety import report_internal_error
from llmtap.version import __version__

INSTRUMENTATION_SCOPE = "llmtap"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"


class Runtime(NamedTuple):  # (a NamedTuple: defined at start-up, where a dataclass costs ~1 ms)
    settings: Settings
    emitter: Emitter
    logger_provider: Any = None
    # The providers the application passed (None: the global ones), kept for later `instrument()` calls.
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None


_lock = threading.RLock()
_current: Runtime | None = None
_follows_global = False
_followed: object | None = None
_watching = False


def current() -> Runtime | None:
    return _current


def configure(
    settings: Settings,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: Any = None,
    labels: label_policy.LabelPolicy | None = None,
) -> Runtime:
    """(Re)build the runtime. Sets up a pipeline from `OTEL_*` when the app supplied none."""
    global _current
    with _lock:
        if _current is not None:  # a later `instrument()` without providers keeps the ones given before
            tracer_provider = tracer_provider if tracer_provider is not None else _current.tracer_provider
            meter_provider = meter_provider if meter_provider is not None else _current.meter_provider
            logger_provider = logger_provider if logger_provider is not None else _current.logger_provider
        if labels is None:
            labels = label_policy.LabelPolicy.from_settings(settings)
        pricer = check_tables(settings)
        from llmtap.store import wiring as store_wiring  # set-up only: the capture path never imports the store

        nothing_configured = (
            tracer_provider is None
            and not providers.global_tracer_provider_is_set()
            and not store_wiring.traces_configured()
        )
        # With nothing configured the local store records the spans, and says so itself (one INFO line).
        store_is_default = nothing_configured and store_wiring.store_path(settings) is not None
        _set_up_pipeline(tracer_provider is None, meter_provider is None, announce=not store_is_default)
        tracer = store_wiring.wire(
            settings,
            tracer_provider,
            nothing_configured=nothing_configured,
            name=INSTRUMENTATION_SCOPE,
            version=__version__,
            schema_url=_SCHEMA_URL,
        ) or trace.get_tracer(INSTRUMENTATION_SCOPE, __version__, tracer_provider, schema_url=_SCHEMA_URL)
        meter = metrics.get_meter(INSTRUMENTATION_SCOPE, __version__, meter_provider, schema_url=_SCHEMA_URL)
        labels.bind_meter(meter)
        emitter = Emitter(
            tracer,
            GenAIMetrics(meter),
            settings.max_content_chars,
            settings.capture_content,
            pricer=pricer,
            cost_dimensions=labels.metric_attributes,
        )
        global _follows_global
        _follows_global = tracer_provider is None
        _install_label_processor(tracer_provider if tracer_provider is not None else trace.get_tracer_provider())
        # Routing watches the provider llmtap's spans go through: with nothing configured, the store's own.
        routed = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        if isinstance(tracer, store_wiring.FallbackTracer):
            routed = store_wiring.private_provider()
        _configure_routing(settings, routed)
        if _follows_global and not providers.global_tracer_provider_is_set():
            _watch_global_provider()
        label_policy.activate(labels)
        content.configure(settings.max_attribute_chars)
        redaction.activate(redaction.Redactor(settings.redact, settings.redact_patterns, settings.redact_hook))
        _current = Runtime(
            settings=settings,
            emitter=emitter,
            logger_provider=logger_provider,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        return _current


def check_tables(settings: Settings) -> Pricer:
    """The config tables checked before anything is set up (`ConfigError` naming the bad key): the annotation
    schemas (reported now, not at the first annotation), the review queues and the price overrides, returned as the
    pricer."""
    schemas: dict[str, Any] = {}
    if settings.tables.get("annotations"):
        from llmtap.annotations.schema import parse_schemas

        schemas = parse_schemas(settings.tables["annotations"], settings.source)
    if settings.tables.get("queues"):
        from llmtap.review.config import parse_queues

        parse_queues(settings.tables["queues"], settings.source, schemas)
    return Pricer.from_settings(settings)


def check_routes(settings: Settings) -> None:
    """The routing rules and named exporters (`ConfigError` naming the rule and the position), when any."""
    if settings.tables.get("routes"):
        from llmtap import routing

        routing.load(settings)


def _set_up_pipeline(traces_wanted: bool, metrics_wanted: bool, *, announce: bool = True) -> None:
    """Build what `OTEL_*` asks for where the application set no provider, and say where telemetry goes.

    Both signals are checked before either is installed, so a bad setting leaves nothing half set up."""
    set_up_traces = traces_wanted and not providers.global_tracer_provider_is_set()
    set_up_metrics = metrics_wanted and not providers.global_meter_provider_is_set()
    traces = providers.plan(None, "traces") if set_up_traces else []
    metrics_ = providers.plan(None, "metrics") if set_up_metrics else []
    if set_up_traces:
        providers.setup_tracer_provider()
    if set_up_metrics:
        providers.setup_meter_provider()
    if set_up_traces and announce:
        report_once(logging.INFO, providers.where_telemetry_goes(traces, metrics_))


def _configure_routing(settings: Settings | None, tracer_provider: object = None) -> None:
    """Routing rules in force, and their processor on the provider; imported only when routes exist."""
    if settings is not None and settings.tables.get("routes"):
        from llmtap import routing

        routing.configure(settings)
        routing.install(tracer_provider)
    elif "llmtap.routing" in sys.modules:
        sys.modules["llmtap.routing"].configure(None)


def _on_global_provider_set(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    result = wrapped(*args, **kwargs)
    try:
        follow_global_provider()
    except Exception as exc:
        report_internal_error("following the global tracer provider", exc)
    return result


def _watch_global_provider() -> None:
    """Until the application installs its global tracer provider, watch for it (so labels are stamped on
    its spans from the first one on). `opentelemetry.trace.set_tracer_provider` funnels into this setter."""
    global _watching
    if not _watching:
        wrapt.wrap_function_wrapper(trace, "_set_tracer_provider", _on_global_provider_set)
        _watching = True


def _stop_watching_global_provider() -> None:
    global _watching
    if _watching:
        wrapper = trace._set_tracer_provider  # type: ignore[attr-defined]
        trace._set_tracer_provider = getattr(wrapper, "__wrapped__", wrapper)  # type: ignore[attr-defined]
        _watching = False


def follow_global_provider() -> None:
    """When llmtap writes through the global tracer provider, give a provider the application installs
    after `instrument()` the label processor too. Cheap: one identity check per call."""
    if not _follows_global:
        return
    provider = trace.get_tracer_provider()
    global _followed
    if provider is not _followed:
        _followed = provider
        _install_label_processor(provider)
        from llmtap.store import wiring as store_wiring

        store_wiring.follow(provider)
        routing = sys.modules.get("llmtap.routing")
        if routing is not None and routing.current() is not None:
            routing.install(provider)


def _install_label_processor(provider: object) -> None:
    """The label processor on an SDK tracer provider. The OTel SDK is imported only when the application
    uses it: the API's proxy provider (no pipeline yet) takes no processor."""
    if getattr(provider, "add_span_processor", None) is None:
        return
    from llmtap.labels.processor import install

    install(provider)


def current_settings() -> Settings:
    """The settings in force: the runtime's, or freshly loaded from the environment and config file."""
    state = _current
    return state.settings if state is not None else load_settings()


def ensure(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: Any = None,
) -> Runtime:
    """The runtime, configured from the environment if nobody called `llmtap.instrument()`.

    This is how the `opentelemetry-instrument` launcher path gets the same set-up as `instrument()`.
    """
    with _lock:
        if _current is not None and tracer_provider is None and meter_provider is None:
            return _current
        settings = _current.settings if _current is not None else load_settings()
        return configure(
            settings,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
        )


def reset() -> None:
    """Forget the runtime (used by `uninstrument()`)."""
    global _current
    with _lock:
        _current = None
        label_policy.activate(None)
        redaction.activate(None)
        content.configure(content.DEFAULT_MAX_ATTRIBUTE_CHARS)
        _configure_routing(None)
        _stop_watching_global_provider()
        wiring = sys.modules.get("llmtap.store.wiring")
        if wiring is not None:
            wiring.reset()
