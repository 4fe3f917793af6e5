"""The loopback model API server lives in the package (`llmtap.demo.loopback`: `llmtap demo` serves its recorded
responses with it); the tests use the same one."""

from llmtap.demo.loopback import Handler, LoopbackAPI, Reply, Request, sse_bytes

__all__ = ["Handler", "LoopbackAPI", "Reply", "Request", "sse_bytes"]
