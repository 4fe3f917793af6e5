"""The one configuration loader: environment variables, `[tool.llmtap]` / `LLMTAP_CONFIG`, arguments.

Precedence, highest first: explicit arguments to `llmtap.instrument()`, environment variables, the
config file (the file named by `LLMTAP_CONFIG` if set, else `[tool.llmtap]` of the nearest
pyproject.toml from the working directory upwards), built-in defaults.

Errors: a bad value given in code (`instrument(config=...)`) raises `ConfigError`. A bad value from the
environment or a config file never stops the application: it is recorded in `Settings.errors` (logged once
at ERROR by `llmtap.problems`) and llmtap falls back to the safe choice: content capture off when the
capture setting is bad, llmtap off for anything else. Unknown `LLMTAP_*` variables and file keys are
recorded in `Settings.warnings`, naming the closest known one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmtap.errors import ConfigError
from llmtap.store.paths import DEFAULT_STORE

# This module imports nothing of llmtap but its errors and the store's default path (the commands reading the store
# may load the settings too): the redaction code is imported when a setting needs it, and the defaults of other
# modules' settings live here.
DEFAULT_MAX_CONTENT_CHARS = 16384
DEFAULT_MAX_ATTRIBUTE_CHARS = 131072  # `llmtap.content`'s bound of each content attribute
DEFAULT_REDACT_SETS: tuple[str, ...] = ("credentials",)  # `llmtap.redaction.DEFAULT_SETS`

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})

# OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT also takes the newer capture modes.
# EVENT_ONLY asks for content on events only; llmtap records content on spans, so it means none here.
_OTEL_CONTENT_ON = TRUE_WORDS | {"span_only", "span_and_event"}
_OTEL_CONTENT_OFF = FALSE_WORDS | {"no_content", "event_only"}

# Scalar settings: file key -> environment variable.
_ENV_NAMES = {
    "enabled": "LLMTAP_ENABLED",
    "capture_content": "LLMTAP_CAPTURE_CONTENT",
    "max_content_chars": "LLMTAP_MAX_CONTENT_CHARS",
    "max_attribute_chars": "LLMTAP_MAX_ATTRIBUTE_CHARS",
    "redact": "LLMTAP_REDACT",
    "tags": "LLMTAP_TAGS",
    "store": "LLMTAP_STORE",
    "store_max_age_days": "LLMTAP_STORE_MAX_AGE_DAYS",
    "store_max_size_mb": "LLMTAP_STORE_MAX_SIZE_MB",
    "openai_stream_usage": "LLMTAP_OPENAI_STREAM_USAGE",
    "labels_mode": "LLMTAP_LABELS_MODE",
    "annotations_mode": "LLMTAP_ANNOTATIONS_MODE",
    "backend_labels": "LLMTAP_BACKEND_LABELS",
}
# Tables later features read; accepted here so one loader knows the whole file.
_TABLES = ("labels", "annotations", "routes", "queues", "exporters", "prices")
_KNOWN_KEYS = frozenset(_ENV_NAMES) | frozenset(_TABLES)
# Every `LLMTAP_*` variable llmtap reads. A variable read elsewhere must be listed here (or in `_ENV_NAMES`),
# else a user setting it is told it is misspelled.
OTHER_VARIABLES = frozenset({"LLMTAP_CONFIG", "LLMTAP_FEEDBACK_SECRET", "LLMTAP_BACKEND_LABELS"})

DEFAULT = "default"
ENVIRONMENT = "environment"
CODE = "code"


@dataclass(frozen=True)
class Settings:
    """Resolved llmtap configuration."""

    enabled: bool = True
    capture_content: bool = True
    max_content_chars: int = DEFAULT_MAX_CONTENT_CHARS
    max_attribute_chars: int = DEFAULT_MAX_ATTRIBUTE_CHARS
    # Content redaction (`llmtap.redaction`): pattern sets, the app's patterns, the callable given in code.
    redact: tuple[str, ...] = DEFAULT_REDACT_SETS
    redact_patterns: tuple[str, ...] = ()
    redact_hook: Callable[[str], str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    store: str = DEFAULT_STORE
    store_max_age_days: int = 0  # retention of the local store, applied in the background (0: no limit)
    store_max_size_mb: int = 0
    openai_stream_usage: bool = False
    labels_mode: str = "warn"
    annotations_mode: str = "strict"
    # Labels also where Phoenix, Langfuse and MLflow read filterable metadata (`llmtap.backends`).
    backend_labels: bool = False
    disabled_instrumentations: frozenset[str] = frozenset()
    tables: Mapping[str, Any] = field(default_factory=dict)
    source: str = "defaults"
    # Where each setting's value came from: "default", "environment", "code", or the config file's name.
    origins: Mapping[str, str] = field(default_factory=dict)
    # Bad environment / file values (each already applied as its safe fallback) and likely misspellings.
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    from_code: bool = False  # the settings file was given in code (`instrument(config=...)`)

    def origin(self, key: str) -> str:
        return self.origins.get(key, DEFAULT)


def parse_bool(raw: Any, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r}: expected a boolean (true/false, 1/0, yes/no, on/off)")


def parse_nonnegative_int(raw: Any, name: str) -> int:
    if isinstance(raw, bool):
        raise ConfigError(f"{name}={raw!r}: expected a whole number >= 0 (0 means no limit)")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number >= 0 (0 means no limit)") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r}: expected a whole number >= 0 (0 means no limit)")
    return value


def parse_tags(raw: Any, name: str) -> dict[str, str]:
    """`k=v,k2=v2` (environment) or a TOML table of scalars (config file)."""
    if isinstance(raw, Mapping):
        tags = {}
        for key, value in raw.items():
            if isinstance(value, Mapping | list):
                raise ConfigError(f"{name}.{key}={value!r}: expected a string, number or boolean")
            tags[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
        return tags
    tags = {}
    for item in str(raw).split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{name}={raw!r}: entry {item.strip()!r} is not of the form key=value")
        tags[key.strip()] = value.strip()
    return tags


def _parse_store(raw: Any, name: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{name}={raw!r}: expected a file path or 'off'")
    return raw.strip()


def _parse_redact(raw: Any, name: str) -> tuple[str, ...]:
    from llmtap import redaction

    return redaction.parse_sets(raw, name)


def _parse_labels_mode(raw: Any, name: str) -> str:
    mode = str(raw).strip().lower()
    if mode not in ("warn", "strict", "drop"):
        raise ConfigError(f"{name}={raw!r}: expected warn, strict or drop")
    return mode


def _parse_annotations_mode(raw: Any, name: str) -> str:
    mode = str(raw).strip().lower()
    if mode not in ("strict", "open"):
        raise ConfigError(f"{name}={raw!r}: expected strict (only declared annotations) or open")
    return mode


_PARSERS = {
    "enabled": parse_bool,
    "capture_content": parse_bool,
    "max_content_chars": parse_nonnegative_int,
    "max_attribute_chars": parse_nonnegative_int,
    "redact": _parse_redact,
    "tags": parse_tags,
    "store": _parse_store,
    "store_max_age_days": parse_nonnegative_int,
    "store_max_size_mb": parse_nonnegative_int,
    "openai_stream_usage": parse_bool,
    "labels_mode": _parse_labels_mode,
    "annotations_mode": _parse_annotations_mode,
    "backend_labels": parse_bool,
}


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{what}={str(path)!r}: the file does not exist; expected a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what}={str(path)!r}: not valid TOML ({exc})") from None


def _find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_config_file(environ: Mapping[str, str], cwd: Path) -> tuple[dict[str, Any], str]:
    """Return the llmtap tables of the config file in effect, and where they came from."""
    explicit = environ.get("LLMTAP_CONFIG")
    if explicit:
        return _read_toml(Path(explicit), "LLMTAP_CONFIG"), explicit
    pyproject = _find_pyproject(cwd)
    if pyproject is None:
        return {}, "defaults"
    tool = _read_toml(pyproject, "pyproject.toml").get("tool", {})
    table = tool.get("llmtap", {}) if isinstance(tool, Mapping) else {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"[tool.llmtap] in {pyproject}: expected a table, got {table!r}")
    return dict(table), f"{pyproject} [tool.llmtap]"


class _Collector:
    """Collects the problems of environment / file values: each becomes an error and its safe fallback."""

    def __init__(self, values: dict[str, Any], origins: dict[str, str], *, strict: bool) -> None:
        self.values, self.origins, self.strict = values, origins, strict
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def fail(self, exc: ConfigError, *, key: str | None = None) -> None:
        if self.strict:
            raise exc
        if key == "capture_content":
            self.errors.append(f"{exc}; content capture is off")
            self.values["capture_content"] = False
            self.origins["capture_content"] = "fallback"
        else:
            self.errors.append(f"{exc}; llmtap is off")
            self.values["enabled"] = False
            self.origins["enabled"] = "fallback"

    def parse(self, key: str, raw: Any, name: str, origin: str) -> None:
        try:
            value = _PARSERS[key](raw, name)
        except ConfigError as exc:
            self.fail(exc, key=key)
            return
        if self.origins.get(key) != "fallback":  # a bad value elsewhere already chose the safe value
            self.values[key] = value
            self.origins[key] = origin


def closest(name: str, known: Iterable[str], prefix: str = "") -> str | None:
    """The known name `name` most likely misspells, if any is close (compared after a shared `prefix`)."""
    import difflib  # only when a name is unknown

    by_rest = {candidate.removeprefix(prefix): candidate for candidate in known}
    matches = difflib.get_close_matches(name.removeprefix(prefix), sorted(by_rest), n=1, cutoff=0.6)
    return by_rest[matches[0]] if matches else None


def did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str:
    guess = closest(name, known, prefix)
    return f"; did you mean {guess}?" if guess else ""


def _apply_file(collector: _Collector, table: Mapping[str, Any], source: str, origin: str) -> None:
    tables: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in _KNOWN_KEYS:
            nested = isinstance(raw, Mapping) and isinstance(raw.get("llmtap"), Mapping)
            hint = (
                " (this file holds the [tool.llmtap] tables at its top level: [labels.x], not [tool.llmtap.labels.x])"
                if key == "tool" and nested
                else ""
            )
            collector.fail(
                ConfigError(
                    f"{source}: unknown setting {key!r}{did_you_mean(key, _KNOWN_KEYS)}; "
                    f"expected one of {', '.join(sorted(_KNOWN_KEYS))}{hint}"
                )
            )
            continue
        if key == "redact":  # a table of its own settings: `sets` and `patterns`
            from llmtap import redaction

            try:
                collector.values.update(redaction.parse_table(raw, source))
                collector.origins[key] = origin
            except ConfigError as exc:
                collector.fail(exc)
        elif key in _TABLES:
            if not isinstance(raw, Mapping | list):
                collector.fail(ConfigError(f"{source}: {key}={raw!r}: expected a table"))
                continue
            tables[key] = raw
            collector.origins[key] = origin
        else:
            collector.parse(key, raw, f"{source}: {key}", origin)
    collector.values["tables"] = tables


def _content_from_env(environ: Mapping[str, str], collector: _Collector) -> bool | None:
    """Content is off if either variable turns it off; on if one is set and none turns it off."""
    ours = environ.get("LLMTAP_CAPTURE_CONTENT")
    otel = environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
    decisions = []
    try:
        if ours is not None and ours.strip():
            decisions.append(parse_bool(ours, "LLMTAP_CAPTURE_CONTENT"))
        if otel is not None and otel.strip():
            text = otel.strip().lower()
            if text in _OTEL_CONTENT_OFF:
                decisions.append(False)
            elif text in _OTEL_CONTENT_ON:
                decisions.append(True)
            else:
                raise ConfigError(
                    f"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT={otel!r}: expected true/false or one of "
                    "NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT"
                )
    except ConfigError as exc:
        collector.fail(exc, key="capture_content")
        return None
    return all(decisions) if decisions else None


def known_variables() -> frozenset[str]:
    return frozenset(_ENV_NAMES.values()) | OTHER_VARIABLES


def _misspelled_variables(environ: Mapping[str, str]) -> list[str]:
    known = known_variables()
    return [
        f"{name} is not an llmtap setting and is ignored{did_you_mean(name, known, 'LLMTAP_')}"
        for name in sorted(environ)
        if name.startswith("LLMTAP_") and name not in known
    ]


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    capture_content: bool | None = None,
    strict: bool = False,
    redact: Callable[[str], str] | None = None,
) -> Settings:
    """Resolve the settings. `config` (a mapping of file keys, or a TOML path) replaces the config file.

    `strict=True` (for commands that check the configuration) raises `ConfigError` for any bad value.

    Bad values in `config` or `capture_content` (given in code) raise `ConfigError`; bad values from the
    environment or the config file are recorded in `Settings.errors` with their safe fallback applied.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    from_code = config is not None
    collector = _Collector(values, origins, strict=from_code or strict)
    if config is None:
        try:
            table, source = read_config_file(env, Path(cwd) if cwd is not None else Path.cwd())
        except ConfigError as exc:
            collector.fail(exc)
            table, source = {}, "defaults"
        origin = source
    elif isinstance(config, Mapping):
        table, source, origin = dict(config), "instrument(config=...)", CODE
    else:
        table, source, origin = _read_toml(Path(config), "instrument(config=...)"), str(config), CODE
    values["source"] = source
    _apply_file(collector, table, source, origin)

    collector.strict = strict  # from here on: the environment
    for key, env_name in _ENV_NAMES.items():
        raw = env.get(env_name)
        if key == "capture_content" or raw is None or not raw.strip():
            continue
        collector.parse(key, raw, env_name, ENVIRONMENT)
    env_content = _content_from_env(env, collector)
    if env_content is not None and origins.get("capture_content") != "fallback":
        values["capture_content"] = env_content
        origins["capture_content"] = ENVIRONMENT
    if "OTEL_SDK_DISABLED" in env and env["OTEL_SDK_DISABLED"].strip():
        try:
            if parse_bool(env["OTEL_SDK_DISABLED"], "OTEL_SDK_DISABLED"):
                values["enabled"] = False
                origins["enabled"] = ENVIRONMENT
        except ConfigError as exc:
            collector.fail(exc)
    disabled = env.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "")
    values["disabled_instrumentations"] = frozenset(name.strip() for name in disabled.split(",") if name.strip())
    if values["disabled_instrumentations"]:
        origins["disabled_instrumentations"] = ENVIRONMENT
    collector.warnings.extend(_misspelled_variables(env))

    if capture_content is not None:
        if not isinstance(capture_content, bool):
            raise ConfigError(f"capture_content={capture_content!r}: expected True, False or None")
        values["capture_content"] = capture_content
        origins["capture_content"] = CODE
    if redact is not None:
        from llmtap import redaction

        values["redact_hook"] = redaction.check_hook(redact)
        origins["redact"] = CODE
    return replace(
        Settings(),
        **values,
        origins=origins,
        errors=tuple(collector.errors),
        warnings=tuple(collector.warnings),
        from_code=from_code,
    )
