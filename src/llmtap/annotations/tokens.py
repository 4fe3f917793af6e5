"""Feedback tokens: signed, expiring, single use per annotation name, for web front ends.

The server that answered a chat request hands `feedback_token(llmtap.span_of(response))` to the front
end with the answer; the front end sends it back with the user's rating, and the server calls
`annotate_from_token(token, "human_feedback", "good")`. Signed (HMAC-SHA256, `itsdangerous`) with
`LLMTAP_FEEDBACK_SECRET`; the token carries its target, the names it allows and its expiry.
Replay protection (one use per name) is kept in this process's memory, until the token expires; across
processes, every use of a token for a name yields the same annotation id, which the local store keeps once.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from llmtap import runtime
from llmtap.annotations import api, targets
from llmtap.annotations.model import Annotation, Target
from llmtap.errors import AnnotationError, ConfigError

SECRET_VARIABLE = "LLMTAP_FEEDBACK_SECRET"
MIN_SECRET_CHARS = 16
DEFAULT_TTL = timedelta(days=1)
_SALT = "llmtap.feedback-token.v1"

_serializers: dict[str, URLSafeSerializer] = {}


def _serializer() -> URLSafeSerializer:
    secret = os.environ.get(SECRET_VARIABLE, "")
    if len(secret.strip()) < MIN_SECRET_CHARS:
        state = "is not set" if not secret.strip() else f"is too short ({len(secret.strip())} characters)"
        raise ConfigError(
            f"{SECRET_VARIABLE} {state}: feedback tokens are signed with it; expected a random secret of at least "
            f"{MIN_SECRET_CHARS} characters, the same in every process that checks the tokens "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    serializer = _serializers.get(secret)
    if serializer is None:
        serializer = _serializers[secret] = URLSafeSerializer(
            secret, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
    return serializer


class _UsedTokens:
    """(token id, name) pairs already used, each kept until its token expires. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, tuple[float, set[str]]] = {}
        self._next_sweep = 0.0

    def claim(self, token_id: str, name: str, expires: float, now: float) -> bool:
        with self._lock:
            if now >= self._next_sweep:
                self._used = {key: entry for key, entry in self._used.items() if entry[0] > now}
                self._next_sweep = now + 60.0
            entry = self._used.setdefault(token_id, (expires, set()))
            if name in entry[1]:
                return False
            entry[1].add(name)
            return True


_used = _UsedTokens()


def _ttl_seconds(ttl: Any) -> float:
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise AnnotationError(f"ttl={ttl!r}: expected a positive number of seconds or a timedelta")
    return float(seconds)


def _names(names: Iterable[str] | None) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise AnnotationError(f"names={names!r}: expected a list of annotation names, e.g. [{names!r}]")
    listed = list(names)
    declared = api.schemas(runtime.ensure().settings)
    for name in listed:
        if not isinstance(name, str) or not name:
            raise AnnotationError(f"names={listed!r}: {name!r} is not an annotation name")
        if name not in declared and runtime.current_settings().annotations_mode != "open":
            raise AnnotationError(
                f"names={listed!r}: {name!r} is not a declared annotation; expected one of "
                f"{', '.join(sorted(declared)) or 'none are declared'}"
            )
    return listed


def _encode_target(target: Target) -> dict[str, Any] | str:
    if target.join is not None and target.span_id is None:
        return {"join": {"label": target.join.label, "value": target.join.value}}
    if target.kind == "span":
        return {"trace_id": target.trace_id, "span_id": target.span_id}
    if target.kind == "session":
        return {"session_id": target.session_id}
    return str(target.trace_id)


def feedback_token(
    ref: Any,
    *,
    names: Iterable[str] | None = None,
    ttl: timedelta | float = DEFAULT_TTL,
    annotator: str | None = None,
) -> str:
    """An opaque, URL-safe token a front end hands back with the user's rating (see `annotate_from_token`).

    `ref`: any target `llmtap.annotate()` accepts. `names`: the annotations the token allows (None: any
    declared one). `ttl`: how long it is valid (seconds or a timedelta; default one day). `annotator`:
    who the end user is (e.g. your user id), recorded on the annotations made with it.
    """
    target = targets.resolve(ref).target
    allowed = _names(names)
    seconds = _ttl_seconds(ttl)
    if annotator is not None and not isinstance(annotator, str):
        raise AnnotationError(f"annotator={annotator!r}: expected a string (who the end user is) or None")
    payload = {
        "t": _encode_target(target),
        "n": allowed,
        "x": round(time.time() + seconds, 3),
        "i": secrets.token_urlsafe(12),
        "a": annotator,
    }
    return _serializer().dumps(payload)


def _read(token: Any) -> Mapping[str, Any]:
    if not isinstance(token, str) or not token:
        raise AnnotationError(f"feedback token {token!r} refused: expected the string feedback_token() returned")
    serializer = _serializer()
    try:
        payload = serializer.loads(token)
    except BadSignature:
        raise AnnotationError(
            "feedback token refused: its signature does not match (forged, altered, or signed with another "
            f"{SECRET_VARIABLE})"
        ) from None
    if not isinstance(payload, Mapping) or not {"t", "n", "x", "i"} <= set(payload):
        raise AnnotationError("feedback token refused: not a token feedback_token() made")
    return payload


def _annotation_id(token_id: str, name: str) -> str:
    """The same for every use of one token for one name, in any process: a replay that reaches another worker
    than the first use carries the first one's id, so the local store keeps one (and a backend can tell)."""
    return hashlib.sha256(f"{_SALT}\0{token_id}\0{name}".encode()).hexdigest()[:32]


def annotate_from_token(
    token: str,
    name: str,
    value: Any,
    *,
    explanation: str | None = None,
    annotator: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Annotation:
    """Verify `token` and record the end user's annotation on its target (annotator kind `end_user`).

    Refuses, with `llmtap.AnnotationError`, a forged or altered token, an expired one, a name the token
    does not allow, and a second use of the token for the same name.
    """
    payload = _read(token)
    now = time.time()
    expires = float(payload["x"])
    if now >= expires:
        moment = datetime.fromtimestamp(expires, tz=UTC).isoformat(timespec="seconds")
        raise AnnotationError(f"feedback token refused: it expired at {moment}; expected a token still within its ttl")
    allowed = payload["n"]
    if allowed is not None and name not in allowed:
        raise AnnotationError(
            f"feedback token refused: annotation {name!r} is out of its scope; it allows {', '.join(allowed)}"
        )
    prepared = api.prepare(
        payload["t"],
        name,
        value,
        explanation=explanation,
        annotator=payload.get("a") or annotator,
        annotator_kind="end_user",
        metadata=metadata,
        annotation_id=_annotation_id(str(payload["i"]), name),
    )
    if not _used.claim(str(payload["i"]), name, expires, now):
        raise AnnotationError(
            f"feedback token refused: it was already used for annotation {name!r}; each token allows one {name!r}"
        )
    return api.commit(prepared)
