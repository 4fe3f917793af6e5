"""The credentials llmtap has seen, so no layer ever exports them, whatever their shape.

Provider plugins hand every client they see to `learn_client` (its API key, its auth token, the values
of its credential headers: `Authorization`, `api-key`, `x-api-key`, ...); framework plugins hand the
secrets their model objects hold to `learn`. `llmtap.redaction.scrub` replaces every known credential
in error descriptions, and content redaction replaces them in captured content.

The registry is bounded (the most recent `MAX_SECRETS` distinct values), so an application creating a
client per request with a fresh token does not grow it without limit; clients are looked at once per
API key (a weak-keyed cache), so learning costs one attribute read per call.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from typing import Any

MAX_SECRETS = 64
# Shorter values are not treated as secrets: placeholder keys ("EMPTY", "none", "ollama") would
# otherwise be blanked out of every text.
MIN_SECRET_CHARS = 8
# Header names that carry credentials (lower-case).
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "x-auth-token",
        "x-amz-security-token",
    }
)
_SCHEME = re.compile(r"^(?:bearer|basic|token|apikey)\s+", re.IGNORECASE)

_lock = threading.Lock()
_secrets: OrderedDict[str, None] = OrderedDict()
_version = 0  # bumped on every change, so compiled matchers know when to rebuild
_seen_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def learn(value: Any) -> None:
    """Remember `value` (a string, or a pydantic `SecretStr`) as a credential."""
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return
    global _version
    # "Bearer <token>": the token alone (replacing it removes it from the header value too)
    secret = _SCHEME.sub("", value.strip())
    if len(secret) < MIN_SECRET_CHARS:
        return
    with _lock:
        if secret in _secrets:
            _secrets.move_to_end(secret)
            return
        _secrets[secret] = None
        while len(_secrets) > MAX_SECRETS:
            _secrets.popitem(last=False)
        _version += 1


def learn_headers(headers: Any) -> None:
    """Remember the values of the credential headers in a mapping of HTTP headers."""
    items = getattr(headers, "items", None)
    if items is None:
        return
    for name, value in items():
        if isinstance(name, str) and name.lower() in CREDENTIAL_HEADERS:
            learn(value)


def learn_client(client: Any) -> None:
    """Remember the credentials of an SDK client: `api_key`, `auth_token`, credential headers.

    Cheap when called per API call: the client is looked at again only when its API key changed.
    """
    key = getattr(client, "api_key", None)
    try:
        if _seen_clients.get(client, _seen_clients) == key:
            return
        _seen_clients[client] = key
    except TypeError:  # not weak-referenceable or not hashable: learn every time
        pass
    learn(key)
    learn(getattr(client, "auth_token", None))
    try:
        learn_headers(getattr(client, "default_headers", None))
    except Exception:  # a client computing its headers may fail (e.g. no key yet); its key is learnt already
        pass


def learn_secret_fields(model: Any) -> None:
    """Remember the `SecretStr` fields of a pydantic model (a framework's model object holding its API
    key, e.g. LangChain's `ChatOpenAI.openai_api_key`); looked at once per object."""
    try:
        if model in _seen_clients:
            return
        _seen_clients[model] = None
    except TypeError:
        pass
    fields = getattr(type(model), "model_fields", None)
    if not isinstance(fields, dict):
        return
    for name in fields:
        value = getattr(model, name, None)
        if hasattr(value, "get_secret_value"):
            learn(value)


def known() -> tuple[int, tuple[str, ...]]:
    """The registry's version and the known credentials, longest first (so a key's prefix never wins)."""
    with _lock:
        return _version, tuple(sorted(_secrets, key=len, reverse=True))


def forget_all() -> None:
    """Forget every credential (tests; an application rotating every key)."""
    global _version
    with _lock:
        _secrets.clear()
        _seen_clients.clear()
        _version += 1
