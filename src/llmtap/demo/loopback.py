"""A loopback HTTP server that answers like a model API: JSON bodies, SSE streams, errors, delays.

`llmtap demo` serves its recorded responses with it, and the test suite its fakes of the APIs. A handler is
registered per path; it gets the parsed request and returns a `Reply`. Requests are kept (with headers) so
tests can check what the SDK really sent. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, sent as application/json
    events: Iterable[Any] | None = None  # SSE: each item is (event, data) or data; data dict -> JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay_between_events: float = 0.0
    stop_after_events: int | None = None  # close the connection abruptly after this many events
    done_marker: bool = True  # OpenAI-style `data: [DONE]` at the end of a stream
    delay: float = 0.0  # seconds before the response starts (a model's latency)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""  # the body as sent (e.g. an OTLP protobuf request)


Handler = Callable[[Request], Reply]


def sse_bytes(item: Any) -> bytes:
    if isinstance(item, tuple):
        event, data = item
        payload = data if isinstance(data, str) else json.dumps(data)
        return f"event: {event}\ndata: {payload}\n\n".encode()
    payload = item if isinstance(item, str) else json.dumps(item)
    return f"data: {payload}\n\n".encode()


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 128  # tests open dozens of connections at once
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients abandoning streams are expected
            super().handle_error(request, client_address)


class LoopbackAPI:
    def __init__(self, port: int = 0) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                path = self.path.split("?", 1)[0]
                request = Request(self.command, path, {k.lower(): v for k, v in self.headers.items()}, body, raw)
                api.requests.append(request)
                handler = api.handlers.get((self.command, path))
                reply = handler(request) if handler else Reply(404, {"error": {"message": f"no route {path}"}})
                api._write(self, reply)

            do_GET = do_POST = do_DELETE = _serve

        self.server = _QuietServer(("127.0.0.1", port), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def route(self, method: str, path: str, handler: Handler | Reply) -> None:
        self.handlers[(method, path)] = handler if callable(handler) else (lambda _request, r=handler: r)

    def _write(self, http: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        try:
            if reply.events is None:
                payload = json.dumps(reply.body if reply.body is not None else {}).encode()
                http.send_response(reply.status)
                http.send_header("content-type", "application/json")
                http.send_header("content-length", str(len(payload)))
                for key, value in reply.headers.items():
                    http.send_header(key, value)
                http.end_headers()
                http.wfile.write(payload)
                return
            http.send_response(reply.status)
            http.send_header("content-type", "text/event-stream")
            http.send_header("transfer-encoding", "chunked")
            for key, value in reply.headers.items():
                http.send_header(key, value)
            http.end_headers()

            def chunk(data: bytes) -> None:
                http.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                http.wfile.flush()

            for count, item in enumerate(reply.events):
                if reply.stop_after_events is not None and count >= reply.stop_after_events:
                    http.close_connection = True
                    return  # no terminating chunk: the client sees a broken stream
                chunk(sse_bytes(item))
                if reply.delay_between_events:
                    time.sleep(reply.delay_between_events)
            if reply.done_marker:
                chunk(b"data: [DONE]\n\n")
            http.wfile.write(b"0\r\n\r\n")
            http.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (an abandoned stream): nothing to do

    def __enter__(self) -> LoopbackAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
