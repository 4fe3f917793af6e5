"""Export reviewed traces as JSON lines: OpenAI fine-tuning chat rows, eval rows, or DPO preference pairs.

    from llmtap.export import Source, export
    from llmtap.store import open_store
    export(open_store(), Source(queue="review"), "chat", Path("train.jsonl"))

The CLI (`llmtap export`) is a thin shell over it. Nothing on the capture path imports it.
"""

from __future__ import annotations

from llmtap.export.api import ExportError, ExportSummary, Source, export, trace_ids
from llmtap.export.messages import conversation, final_message, openai_messages
from llmtap.export.rows import FORMATS, Exported, row

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportSummary",
    "Exported",
    "Source",
    "conversation",
    "export",
    "final_message",
    "openai_messages",
    "row",
    "trace_ids",
]
