"""Errors a user of llmtap can cause. Each message names the bad value and what was expected."""


class LlmtapError(Exception):
    """Base class of every error llmtap raises on purpose."""


class ConfigError(LlmtapError, ValueError):
    """A configuration value (environment variable, config file or argument) is malformed."""


class LabelError(LlmtapError, ValueError):
    """A label is unknown to the label schema or its value does not fit (raised in strict mode)."""


class UsageError(LlmtapError, ValueError):
    """A value given to the manual API does not fit (e.g. a negative token count)."""


class AnnotationError(LlmtapError, ValueError):
    """An annotation does not fit its schema, names no known target, or a feedback token is refused."""
