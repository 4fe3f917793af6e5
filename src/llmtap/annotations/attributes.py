"""The `llmtap.annotation.*` attribute names of an annotation's log record (beside semconv `gen_ai.evaluation.*`).

Kept in one small module so that readers of the records (the local store's log exporter) use the same names.
"""

ID = "llmtap.annotation.id"  # the annotation's id; a later record with the same id supersedes an earlier one
VALUE = "llmtap.annotation.value"  # the value as recorded: a label, a number, a boolean or (content) a text
ANNOTATOR = "llmtap.annotation.annotator"  # who: a user id, a reviewer, a judge model, a check's name
ANNOTATOR_KIND = "llmtap.annotation.annotator_kind"  # human | end_user | llm | code
SCHEMA_VERSION = "llmtap.annotation.schema_version"  # absent for an undeclared annotation (open mode)
TARGET_KIND = "llmtap.annotation.target.kind"  # span | trace | session (session: also `session.id`)
JOIN_LABEL = "llmtap.annotation.join.label"  # a join key target: the label ...
JOIN_VALUE = "llmtap.annotation.join.value"  # ... and its value, as text
METADATA = "llmtap.annotation.metadata"  # JSON object
SPAN_PREFIX = "llmtap.annotation."  # on a span still open: `llmtap.annotation.<name>` (and `.<name>.score`)
