"""`llmtap doctor`: what llmtap would do here, and why: plugins, settings and where each came from, where
telemetry goes, the content policy, and every configuration problem.

`report()` builds the whole report as a plain dict (the `--json` shape); each section is one small function
in `SECTIONS`, so a part of llmtap adds its own section with one line. Called inside an application,
`report()` also says what is instrumented in that process.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import platform
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from llmtap import providers
from llmtap.config import _ENV_NAMES, Settings, load_settings
from llmtap.errors import LlmtapError
from llmtap.version import __version__

Section = Callable[[Settings, Mapping[str, str]], Any]


def _library_version(requirement: str) -> str | None:
    name = requirement.split()[0].split("[")[0]
    for candidate in (name, name.replace("_", "-")):
        try:
            return version(candidate)
        except PackageNotFoundError:
            continue
    return None


def _plugin(name: str, entry: Any, settings: Settings) -> dict[str, Any]:
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    from llmtap.instrumentation import load_plugin

    row: dict[str, Any] = {"name": name, "distribution": None, "version": None}
    if entry.dist is not None:
        row["distribution"], row["version"] = entry.dist.name, entry.dist.version
    try:
        plugin_class = load_plugin(entry)
    except Exception as exc:
        return {**row, "status": "broken", "detail": f"the plugin does not load: {type(exc).__name__}: {exc}"}
    supported = list(plugin_class.supported)
    row.update(library=plugin_class.library, supported=supported, library_version=None)
    if importlib.util.find_spec(plugin_class.library) is None:
        return {**row, "status": "library not installed", "detail": f"{plugin_class.library} is not installed"}
    row["library_version"] = _library_version(supported[0]) if supported else None
    conflict = get_dependency_conflicts(supported)
    if conflict is not None:
        return {**row, "status": "unsupported version", "detail": str(conflict)}
    if plugin_class().is_instrumented_by_opentelemetry:  # one instance per class: either way in
        return {**row, "status": "instrumented", "detail": "instrumented in this process"}
    if not settings.enabled:
        return {**row, "status": "off", "detail": "llmtap is off (see settings)"}
    if name in settings.disabled_instrumentations or "*" in settings.disabled_instrumentations:
        return {**row, "status": "disabled", "detail": "named in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"}
    return {**row, "status": "ready", "detail": "llmtap.instrument() or opentelemetry-instrument will instrument it"}


def plugins_section(settings: Settings, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    from llmtap.instrumentation import available_plugins

    return [_plugin(name, entry, settings) for name, entry in sorted(available_plugins().items())]


def _origin(settings: Settings, key: str) -> str:
    origin = settings.origin(key)
    if origin == "environment" and key in _ENV_NAMES:
        return f"environment ({_ENV_NAMES[key]})"
    if origin == "environment" and key == "disabled_instrumentations":
        return "environment (OTEL_PYTHON_DISABLED_INSTRUMENTATIONS)"
    if origin not in ("default", "environment", "code", "fallback"):
        return f"file ({origin})"
    return origin


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, frozenset | set | tuple | list):
        return sorted(_plain(item) for item in value)
    return value


def settings_section(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    keys = [*_ENV_NAMES, "disabled_instrumentations"]
    values = {key: {"value": _plain(getattr(settings, key)), "from": _origin(settings, key)} for key in keys}
    for table, content in sorted(settings.tables.items()):
        values[f"[{table}]"] = {
            "value": f"{len(content)} entr{'y' if len(content) == 1 else 'ies'}",
            "from": _origin(settings, table),
        }
    return {"config_file": settings.source, "values": values}


_NOWHERE = "nowhere until the application sets up a provider"


def _signal(signal: str, environ: Mapping[str, str]) -> dict[str, Any]:
    from opentelemetry import metrics, trace

    from llmtap import runtime

    state = runtime.current()
    given = {"traces": state.tracer_provider, "metrics": state.meter_provider}.get(signal) if state else None
    if given is not None:
        return {"to": [f"the provider given to llmtap.instrument() ({type(given).__name__})"], "problem": None}
    set_here = {
        "traces": providers.global_tracer_provider_is_set,
        "metrics": providers.global_meter_provider_is_set,
    }.get(signal)
    if set_here is not None and set_here():
        provider = trace.get_tracer_provider() if signal == "traces" else metrics.get_meter_provider()
        return {"to": [f"the application's provider ({type(provider).__name__})"], "problem": None}
    try:
        destinations = providers.plan(environ, signal)
    except LlmtapError as exc:
        return {"to": [], "problem": str(exc)}
    if destinations:
        return {"to": [destination.describe() for destination in destinations], "problem": None}
    if signal == "logs":
        return {"to": ["not exported (no OTEL_LOGS_EXPORTER, no OTLP endpoint)"], "problem": None}
    return {"to": [_NOWHERE], "problem": None}


def telemetry_section(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    section: dict[str, Any] = {signal: _signal(signal, environ) for signal in providers.SIGNALS}
    from llmtap.store.api import store_path

    path = store_path(settings)
    if path is not None and section["traces"]["to"] == [_NOWHERE]:  # nothing configured: the local store
        section["traces"]["to"] = [f"the local store {path.absolute()} (`llmtap traces` lists them)"]
    otlp = [d for signal in ("traces", "metrics") for d in _destinations(signal, environ) if d.exporter == "otlp"]
    timeouts = {d.timeout_s for d in otlp}
    section["otlp_export_timeout_s"] = (
        None if not otlp else providers.EXPORT_TIMEOUT_S if providers.EXPORT_TIMEOUT_S in timeouts else "environment"
    )
    if importlib.util.find_spec("opentelemetry.distro") is not None:
        section["launcher"] = (
            "opentelemetry-distro is installed: under opentelemetry-instrument it sets the SDK up itself, "
            "defaulting traces, metrics and logs to OTLP over gRPC (set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, "
            "or OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER)"
        )
    else:
        section["launcher"] = "no distro installed: under opentelemetry-instrument llmtap sets the pipeline up as above"
    return section


def _destinations(signal: str, environ: Mapping[str, str]) -> list[providers.Destination]:
    try:
        return providers.plan(environ, signal)
    except LlmtapError:
        return []


def content_section(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    redaction: dict[str, Any] = {
        "credentials": "never recorded (API keys, credential headers and arguments; key-shaped strings in errors)",
    }
    for field in dataclasses.fields(settings):
        if field.name.startswith("redact"):
            redaction[field.name] = _plain(getattr(settings, field.name))
    if "redact" in settings.tables:
        redaction["patterns"] = _plain(settings.tables["redact"])
    return {
        "capture": settings.capture_content,
        "capture_from": _origin(settings, "capture_content"),
        "max_content_chars": settings.max_content_chars,
        "redaction": redaction,
    }


def problems_section(settings: Settings, environ: Mapping[str, str]) -> list[dict[str, str]]:
    problems = [{"level": "error", "message": message} for message in settings.errors]
    problems += [{"level": "warning", "message": message} for message in settings.warnings]
    for signal in providers.SIGNALS:
        problem = _signal(signal, environ)["problem"]
        if problem:
            problems.append({"level": "error", "message": f"{problem}; llmtap is off"})
    return problems


def store_section(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    from llmtap.store.report import store_report

    return store_report(settings, environ)


# name -> section builder; a part of llmtap adds its section here.
SECTIONS: dict[str, Section] = {
    "plugins": plugins_section,
    "settings": settings_section,
    "telemetry": telemetry_section,
    "content": content_section,
    "store": store_section,
    "problems": problems_section,
}


def report(*, environ: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The doctor's report as a dict (the `llmtap doctor --json` shape)."""
    from llmtap import runtime

    env = os.environ if environ is None else environ
    state = runtime.current() if environ is None and cwd is None else None
    settings = state.settings if state is not None else load_settings(environ=env, cwd=cwd)
    result: dict[str, Any] = {
        "llmtap": {"version": __version__, "python": platform.python_version(), "cwd": str(Path(cwd or Path.cwd()))}
    }
    for name, section in SECTIONS.items():
        result[name] = section(settings, env)
    return result


def _print(result: Mapping[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)

    def echo(text: str = "", bold: str = "", rest: str = "") -> None:
        console.print(escape(text) + (f"[bold]{escape(bold)}[/]" if bold else "") + escape(rest))

    echo(bold=f"llmtap {result['llmtap']['version']}", rest=f" (Python {result['llmtap']['python']})")

    echo(bold="plugins")
    for row in result["plugins"]:
        library = f"{row.get('library', '?')} {row.get('library_version') or ''}".strip()
        supported = ", ".join(row.get("supported", []))
        echo(f"  {row['name']:10} {row['distribution']} {row['version']}; {library} (supported: {supported})")
        echo(f"  {'':10} ", row["status"], f": {row['detail']}")

    settings = result["settings"]
    echo(bold="settings", rest=f" (config file: {settings['config_file']})")
    width = max(map(len, settings["values"]), default=0)
    for key, item in settings["values"].items():
        echo(f"  {key:{width}}  {json.dumps(item['value']):20}  from {item['from']}")

    telemetry = result["telemetry"]
    echo(bold="telemetry")
    for signal in providers.SIGNALS:
        echo(f"  {signal:8} {', '.join(telemetry[signal]['to']) or '-'}")
    timeout = telemetry["otlp_export_timeout_s"]
    if timeout == "environment":
        echo("  OTLP exports give up after OTEL_EXPORTER_OTLP_TIMEOUT")
    elif timeout is not None:
        echo(f"  OTLP exports give up after {timeout:g} s")
    echo(f"  launcher: {telemetry['launcher']}")

    content = result["content"]
    echo(bold="content")
    echo(
        f"  capture: {'on' if content['capture'] else 'off'} (from {content['capture_from']}), "
        f"each string cut to {content['max_content_chars']} characters"
    )
    for key, value in content["redaction"].items():
        echo(f"  redaction, {key}: {value}")

    for name in SECTIONS:  # sections other parts of llmtap added
        if name not in ("plugins", "settings", "telemetry", "content", "problems"):
            echo(bold=name)
            section = result[name]
            if isinstance(section, Mapping):  # one line per field (the store: path, status, counts, retention)
                width = max(map(len, section), default=0)
                for key, value in section.items():
                    if value is not None:
                        echo(f"  {key:{width}}  {value if isinstance(value, str) else json.dumps(value, default=str)}")
            else:
                echo(f"  {json.dumps(section, default=str)}")

    problems = result["problems"]
    echo(bold="problems", rest=f": {len(problems) or 'none'}")
    for problem in problems:
        echo(f"  {problem['level'].upper()} {problem['message']}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--store", "store_file", type=click.Path(dir_okay=False), help="Report on this store file (default: the settings')."
)
def doctor(as_json: bool, store_file: str | None) -> None:
    """What llmtap would do here: plugins, settings and their sources, where telemetry goes, content policy."""
    result = report()
    if store_file is not None:
        from llmtap.store.report import store_report

        result["store"] = store_report(dataclasses.replace(load_settings(), store=store_file))
        result["store"]["records"] = "given with --store"
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        _print(result)
