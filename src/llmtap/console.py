"""The `llmtap` script (`[project.scripts]`): `llmtap.cli`'s commands, in a process of their own.

Two settings of the interpreter that only a process started for one command can make:
- The commands reading one page of traces or one trace (`llmtap traces`, `llmtap show`) start often and end in a
  fraction of a second: Python's cyclic garbage collector is off for them. Their start creates some 100,000 objects
  (click, rich, the store's modules) and hardly a garbage cycle, and the collector's passes over those objects cost
  ~5 ms of each command. Any other command (an export, the demo, a back-fill, which may make garbage cycles by the
  million) runs with it on.
- At exit the interpreter's last collections walk every object the command made or imported (~15 ms): frozen, they
  are left to the process's end, which frees them anyway. Registered first, so it runs after every exit handler
  registered later (the OpenTelemetry SDK's shutdown, which `llmtap demo` uses).

`llmtap.cli:main`, called in a process of the caller's (tests, `CliRunner`), changes neither.
"""

from __future__ import annotations

import atexit
import gc
import sys

SHORT_COMMANDS = ("traces", "show")

if sys.argv[1:2] and sys.argv[1] in SHORT_COMMANDS:
    gc.disable()
atexit.register(gc.freeze)

from llmtap.cli import main  # noqa: E402

__all__ = ["main"]
