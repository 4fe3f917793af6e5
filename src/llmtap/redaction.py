"""Redaction: what never leaves the process in captured content, error descriptions or log lines.

Three rules, applied by the one content writer (`llmtap.content`) to every string of captured content,
and by `scrub` to every error description:

- the credentials llmtap has seen (`llmtap.credentials`: the clients' API keys and auth headers), always;
- well-known key patterns (OpenAI / Anthropic / Groq / Stripe / Hugging Face keys, AWS access keys,
  GitHub and Slack tokens, Google API keys, bearer and basic credentials, JWTs, private key blocks,
  passwords in URLs) and values under credential-named keys (`api_key`, `password`, `accessToken`, ...):
  the pattern set `credentials`, on by default (`LLMTAP_REDACT=off` turns it off for content);
- optional pattern sets switched on by name (`email`, `phone`, `card`), the application's own regular
  expressions (`[tool.llmtap.redact] patterns = [...]`) and a callable passed in code
  (`llmtap.instrument(redact=...)`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from llmtap import credentials
from llmtap.config import DEFAULT_REDACT_SETS
from llmtap.errors import ConfigError
from llmtap.safety import report_internal_error

REDACTED = "[REDACTED]"
CREDENTIALS = "credentials"

_TOKEN = "A-Za-z0-9_-"  # the characters of most API keys


class Pattern:
    """A regular expression to redact. A named group `secret` limits the redaction to that group.

    `needles`: literal strings one of which every match contains (a cheap pre-check; None: none known),
    looked for in the lower-cased text when `fold`. `valid`: a check of the matched text (e.g. Luhn).
    `regex` is compiled on first use: a process compiles only the patterns its content may match (compiling
    them all would be a fair share of `llmtap.instrument()`'s start-up cost).
    """

    __slots__ = ("_regex", "flags", "fold", "name", "needles", "source", "valid")

    def __init__(
        self,
        name: str,
        regex: str | re.Pattern[str],
        needles: tuple[str, ...] | None = None,
        fold: bool = False,
        valid: Callable[[str], bool] | None = None,
        flags: int = 0,
    ) -> None:
        self.name, self.needles, self.fold, self.valid = name, needles, fold, valid
        self._regex: re.Pattern[str] | None = regex if isinstance(regex, re.Pattern) else None
        self.source = regex.pattern if isinstance(regex, re.Pattern) else regex
        self.flags = regex.flags if isinstance(regex, re.Pattern) else flags

    @property
    def regex(self) -> re.Pattern[str]:
        regex = self._regex
        if regex is None:  # two threads may both compile: the same object results (`re` caches it too)
            regex = self._regex = re.compile(self.source, self.flags)
        return regex

    def __repr__(self) -> str:
        return f"Pattern({self.name!r}, {self.source!r})"

    def sub(self, text: str) -> str:
        return self.regex.sub(self._replacement, text)

    def _replacement(self, match: re.Match[str]) -> str:
        whole = match.group(0)
        if self.valid is not None and not self.valid(whole):
            return whole
        if "secret" in self.regex.groupindex and match.group("secret") is not None:
            start, end = match.start("secret") - match.start(), match.end("secret") - match.start()
            return whole[:start] + REDACTED + whole[end:]
        return REDACTED

    def may_match(self, text: str, folded: str) -> bool:
        if self.needles is None:
            return True
        haystack = folded if self.fold else text
        return any(needle in haystack for needle in self.needles)


def _pattern(name: str, regex: str, needles: tuple[str, ...] | None, flags: int = 0, **options: Any) -> Pattern:
    return Pattern(name, regex, needles, flags=flags, **options)


def _luhn(text: str) -> bool:
    digits = [int(char) for char in text if char.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}")


def _phone(text: str) -> bool:
    digits = sum(char.isdigit() for char in text)
    return 9 <= digits <= 15 and not _DATE.match(text.lstrip("+("))


CREDENTIAL_PATTERNS: tuple[Pattern, ...] = (
    # OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-api03-...), DeepSeek and others: sk- + 20 or more
    # key characters, at least one of them a digit (so prose like "sk-learn-compatible-estimators" stays).
    _pattern("sk_key", rf"(?<![{_TOKEN}])sk-(?=[{_TOKEN}]*[0-9])[{_TOKEN}]{{20,}}", ("sk-",)),
    _pattern("stripe_key", r"(?<![A-Za-z0-9_])[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", ("k_live_", "k_test_")),
    _pattern("groq_key", r"(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{20,}", ("gsk_",)),
    _pattern("huggingface_token", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}", ("hf_",)),
    _pattern(
        "aws_access_key_id",
        r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])",
        ("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    _pattern(
        "aws_secret_access_key",
        r"aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        ("secret",),
        re.IGNORECASE,
        fold=True,
    ),
    _pattern(
        "github_token",
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _pattern("google_api_key", rf"(?<![{_TOKEN}])AIza[{_TOKEN}]{{35}}", ("AIza",)),
    _pattern("slack_token", r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,}", ("xox",)),
    _pattern(
        "bearer_credentials",
        r"\b(?:bearer|basic)\s+(?P<secret>[A-Za-z0-9._~+/-]{15,}[A-Za-z0-9_~+/-]=*)",
        ("bearer", "basic"),
        re.IGNORECASE,
        fold=True,
    ),
    _pattern("jwt", rf"(?<![{_TOKEN}])eyJ[{_TOKEN}]{{8,}}\.eyJ[{_TOKEN}]{{8,}}\.[{_TOKEN}]*", ("eyJ",)),
    _pattern(
        "private_key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)",
        ("PRIVATE KEY",),
        re.DOTALL,
    ),
    _pattern("url_password", r"(?<=://)[^/\s:@\"']+:(?P<secret>[^/\s@\"']+)(?=@)", ("://",)),
)

OPTIONAL_SETS: dict[str, tuple[Pattern, ...]] = {
    "email": (
        _pattern(
            "email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", ("@",)
        ),
    ),
    "phone": (
        _pattern(
            "phone",
            r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?!\w)",
            None,
            valid=_phone,
        ),
    ),
    "card": (_pattern("card", r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)", None, valid=_luhn),),
}
SETS: dict[str, tuple[Pattern, ...]] = {CREDENTIALS: CREDENTIAL_PATTERNS, **OPTIONAL_SETS}
_OPTIONAL = frozenset(pattern.name for patterns in OPTIONAL_SETS.values() for pattern in patterns)
DEFAULT_SETS: tuple[str, ...] = DEFAULT_REDACT_SETS  # (CREDENTIALS,): the settings' default

# Error texts: also the keys APIs echo back masked ("Incorrect API key provided: sk-proj-****abcd").
_MASKED_KEY = _pattern("masked_key", r"\b(?:sk|sk-ant|sk-proj|sess)-[A-Za-z0-9_\-*]{6,}", ("sk-", "sess-"))

# --- credential-named keys ------------------------------------------------------------------------------

# A key is credential-named when its last word is one of these, or its last two words one of the pairs.
# Words: split at `_`, `-`, `.`, spaces and camelCase humps (`accessToken`, `X-Api-Key`, `APIKey`).
CREDENTIAL_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "credential",
        "credentials",
        "authorization",
        "auth",
        "cookie",
        "cookies",
        "bearer",
        "jwt",
        "apikey",
        "privatekey",
        "accesskey",
        "secretkey",
    }
)
CREDENTIAL_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("secret", "key"),
        ("private", "key"),
        ("session", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("account", "key"),
        ("license", "key"),
    }
)
# The cheap check of a whole JSON text (`Redactor.may_match`): substring scans (fast in CPython) for the
# needles of the credential patterns, and one regex over the reversed lower-cased text for credential-named
# keys (`"...password":` reversed starts with the literal `:"`, which the regex engine skips to). A test
# checks that every credential pattern's needles are covered.
_CASED_NEEDLES = ("AKIA", "ASIA", "ABIA", "ACCA", "AIza", "PRIVATE KEY")
_FOLDED_NEEDLES = (
    "sk-", "gsk_", "k_live_", "k_test_", "hf_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "eyj", "://",
    "xox", "bearer", "basic", "secret",
)  # fmt: skip
_NAMES_REVERSED = re.compile(
    ':"(?:' + "|".join(re.escape(word[::-1]) for word in sorted(CREDENTIAL_WORDS | {"key"})) + ")"
)

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_names_seen: dict[str, bool] = {}


def credential_name(key: str) -> bool:
    """Whether a mapping key or argument name names a credential (`api_key`, `X-Api-Key`, `password`,
    `accessToken`, `client_secret`, `session_cookie`...). `max_tokens`, `token_count`, `key`, `cache_key`
    do not."""
    known = _names_seen.get(key)
    if known is not None:
        return known
    words = [word.lower() for word in _WORDS.findall(key)]
    result = bool(words) and (words[-1] in CREDENTIAL_WORDS or tuple(words[-2:]) in CREDENTIAL_PAIRS)
    if len(_names_seen) > 4096:
        _names_seen.clear()
    _names_seen[key] = result
    return result


# --- parsing the settings ---------------------------------------------------------------------------------

_OFF = frozenset({"off", "false", "0", "no", "none"})
_ON = frozenset({"on", "true", "1", "yes", "default"})


def parse_sets(raw: Any, name: str) -> tuple[str, ...]:
    """`LLMTAP_REDACT` / `redact.sets`: `off`, `on` (the default: credentials), or the pattern sets to use,
    e.g. `credentials,email,card`."""
    if isinstance(raw, bool):
        return DEFAULT_SETS if raw else ()
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _OFF:
            return ()
        if text in _ON:
            return DEFAULT_SETS
        items: Iterable[Any] = text.split(",")
    elif isinstance(raw, list | tuple):
        items = raw
    else:
        raise ConfigError(f"{name}={raw!r}: expected off, on, or a list of pattern sets ({', '.join(SETS)})")
    names = []
    for item in items:
        word = str(item).strip().lower()
        if not word:
            continue
        if word not in SETS:
            raise ConfigError(
                f"{name}={raw!r}: {word!r} is not a pattern set; expected off, on, or some of {', '.join(SETS)}"
            )
        if word not in names:
            names.append(word)
    return tuple(names)


def parse_patterns(raw: Any, name: str) -> tuple[str, ...]:
    """`redact.patterns`: a list of regular expressions (Python syntax), each checked here."""
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{name}={raw!r}: expected a list of regular expressions (strings)")
    for index, item in enumerate(raw):
        try:
            compiled = re.compile(item)
        except re.error as exc:
            raise ConfigError(f"{name}[{index}]={item!r}: not a valid regular expression ({exc})") from None
        if compiled.match(""):
            raise ConfigError(
                f"{name}[{index}]={item!r}: matches the empty string; expected a pattern of the text to hide"
            )
    return tuple(raw)


def parse_table(raw: Any, source: str) -> dict[str, Any]:
    """The `[redact]` table: `sets` (pattern sets) and `patterns` (the application's regular expressions)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: redact={raw!r}: expected a table with `sets` and/or `patterns`")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "sets":
            values["redact"] = parse_sets(value, f"{source}: redact.sets")
        elif key == "patterns":
            values["redact_patterns"] = parse_patterns(value, f"{source}: redact.patterns")
        else:
            raise ConfigError(f"{source}: unknown setting redact.{key}; expected sets or patterns")
    return values


def check_hook(hook: Any) -> Callable[[str], str] | None:
    if hook is not None and not callable(hook):
        raise ConfigError(f"redact={hook!r}: expected a callable taking a string and returning the string to export")
    return hook


# --- the redactor -----------------------------------------------------------------------------------------


class _HookFailed(Exception):
    pass


class Redactor:
    """The redaction policy in force, compiled once (`llmtap.runtime` activates one per configuration)."""

    __slots__ = ("_optional", "_secrets", "_version", "always_walk", "hook", "names", "patterns", "sets")

    def __init__(
        self, sets: Iterable[str] = DEFAULT_SETS, patterns: Iterable[str] = (), hook: Callable[[str], str] | None = None
    ) -> None:
        self.sets = tuple(sets)
        compiled = [pattern for name in self.sets for pattern in SETS[name]]
        compiled += [Pattern(f"custom[{index}]", re.compile(regex)) for index, regex in enumerate(patterns)]
        self.patterns = tuple(compiled)
        self._optional = tuple(pattern for pattern in self.patterns if pattern.name in _OPTIONAL)
        self.names = CREDENTIALS in self.sets
        self.hook = hook
        # Without literal needles (user patterns, digit patterns, a hook) no cheap pre-check is possible.
        self.always_walk = hook is not None or any(pattern.needles is None for pattern in self.patterns)
        self._version = -1
        self._secrets: tuple[str, ...] = ()

    def secrets(self) -> tuple[str, ...]:
        if self._version != credentials._version:
            self._version, self._secrets = credentials.known()
        return self._secrets

    def may_match(self, json_text: str) -> bool:
        """Whether redaction might change anything in this JSON text (false: it certainly does not)."""
        if self.always_walk:
            return True
        if any(secret in json_text for secret in self.secrets()):
            return True
        folded = json_text.lower()
        if CREDENTIALS in self.sets:  # (credential-named keys come with the set: `self.names`)
            if any(needle in json_text for needle in _CASED_NEEDLES):
                return True
            if any(needle in folded for needle in _FOLDED_NEEDLES) or _NAMES_REVERSED.search(folded[::-1]):
                return True
        return any(pattern.may_match(json_text, folded) for pattern in self._optional)

    def text(self, text: str) -> str:
        """One string of captured content, redacted."""
        text = self.key(text)
        if self.hook is not None:
            try:
                result = self.hook(text)
            except Exception as exc:  # fail closed: the application asked for this text to be checked
                # (reported without its message or traceback: they may quote the text)
                report_internal_error("the application's redact hook", _HookFailed(type(exc).__qualname__))
                return REDACTED
            text = result if isinstance(result, str) else REDACTED
        return text

    def key(self, text: str) -> str:
        """A mapping key of captured content, redacted (the hook sees values only)."""
        for secret in self.secrets():
            if secret in text:
                text = text.replace(secret, REDACTED)
        if self.patterns:
            folded = text.lower()
            for pattern in self.patterns:
                if pattern.may_match(text, folded):
                    text = pattern.sub(text)
        return text


_active = Redactor()
_error_patterns = (*CREDENTIAL_PATTERNS, _MASKED_KEY)


def activate(redactor: Redactor | None) -> None:
    """Make `redactor` the policy of captured content (None: the default policy)."""
    global _active
    _active = redactor if redactor is not None else Redactor()


def active() -> Redactor:
    return _active


def scrub(text: str) -> str:
    """An error description or log text without any known credential or key-shaped token (always, whatever
    the content redaction setting: API errors quote keys)."""
    for secret in _active.secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    folded = text.lower()
    for pattern in _error_patterns:
        if pattern.may_match(text, folded):
            text = pattern.sub(text)
    return text
