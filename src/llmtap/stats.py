"""Statistics over stored traces, for `llmtap stats`: model calls grouped by model, provider or a label, and
annotation outcomes per group with 95% confidence intervals.

- Latency percentiles (p50/p95/p99): linear interpolation between the closest ranks (numpy's default,
  `statistics.quantiles(method="inclusive")`).
- Share of a categorical annotation value: the Wilson score interval, z = 1.959964 (95%). It stays inside
  [0, 1] and behaves at 0 and at n (where the plain normal interval collapses to width 0).
- Mean of a numeric annotation: the Student t interval, mean ± t(0.975, n-1) · s / √n (n >= 2).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmtap.errors import LlmtapError
from llmtap.store import AnnotatedTrace, ModelCall

Z_95 = statistics.NormalDist().inv_cdf(0.975)  # 1.959963984540054

# t(0.975, df) for df = 1..30 (two-sided 95%); beyond 30 the Cornish-Fisher expansion below is exact to 1e-5.
_T_975 = (
    12.7062047, 4.3026527, 3.1824463, 2.7764451, 2.5705818, 2.4469119, 2.3646243, 2.3060041, 2.2621572, 2.2281389,
    2.2009852, 2.1788128, 2.1603687, 2.1447867, 2.1314495, 2.1199053, 2.1098156, 2.1009220, 2.0930241, 2.0859634,
    2.0796138, 2.0738731, 2.0686576, 2.0638986, 2.0595386, 2.0555294, 2.0518305, 2.0484071, 2.0452296, 2.0422725,
)  # fmt: skip


class StatsError(LlmtapError):
    """A `llmtap stats` grouping or annotation the store cannot answer (the message says why)."""


def t_975(df: int) -> float:
    """The 97.5% quantile of Student's t distribution with `df` degrees of freedom."""
    if df < 1:
        raise ValueError(f"df={df}: expected at least 1 degree of freedom")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = Z_95
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes / n` (95% by default)."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float]) -> tuple[float, float] | None:
    """The t interval of the mean of `values` (95%); None with fewer than two values."""
    n = len(values)
    if n < 2:
        return None
    mean = statistics.fmean(values)
    half = t_975(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return mean - half, mean + half


def percentile(values: Sequence[float], q: int) -> float:
    """The `q`th percentile (1..99) by linear interpolation between the closest ranks."""
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class CallGroup:
    """Model calls of one group (a model, a provider or a label value)."""

    key: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cost: float | None = None  # USD, summed over the priced calls (None: none was priced)
    priced_calls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.key,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": None if self.cost is None else round(self.cost, 8),
            "priced_calls": self.priced_calls,
            "errors": self.errors,
            "error_rate": round(self.errors / self.calls, 6),
            "latency_ms": {"p50": round(self.p50_ms, 3), "p95": round(self.p95_ms, 3), "p99": round(self.p99_ms, 3)},
        }


def group_key(by: str) -> str:
    """`model`, `provider` or `label.KEY` (checked)."""
    if by in ("model", "provider") or (by.startswith("label.") and len(by) > len("label.")):
        return by
    raise StatsError(f"--by {by!r}: expected model, provider or label.KEY (e.g. label.prompt_version)")


def _key_of(call: ModelCall, by: str) -> str | None:
    if by == "model":
        return call.model
    if by == "provider":
        return call.provider
    return call.labels.get(by[len("label.") :])


def call_groups(calls: Iterable[ModelCall], by: str) -> list[CallGroup]:
    """Calls, tokens, errors and latency percentiles of the model calls, grouped by `by`."""
    by = group_key(by)
    grouped: dict[str | None, list[ModelCall]] = {}
    for call in calls:
        grouped.setdefault(_key_of(call, by), []).append(call)
    groups = []
    for key, members in grouped.items():
        latencies = sorted(call.duration_ms for call in members)
        costs = [call.cost for call in members if call.cost is not None]
        groups.append(
            CallGroup(
                key=key,
                calls=len(members),
                input_tokens=sum(call.input_tokens or 0 for call in members),
                output_tokens=sum(call.output_tokens or 0 for call in members),
                errors=sum(call.error for call in members),
                p50_ms=percentile(latencies, 50),
                p95_ms=percentile(latencies, 95),
                p99_ms=percentile(latencies, 99),
                cost=sum(costs) if costs else None,
                priced_calls=len(costs),
            )
        )
    if by.startswith("label."):  # label values in order (v1, v2, ...); models and providers by most calls
        return sorted(groups, key=lambda group: str(group.key))
    return sorted(groups, key=lambda group: (-group.calls, str(group.key)))


@dataclass(frozen=True)
class Share:
    value: str
    count: int
    share: float
    low: float
    high: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "count": self.count,
            "share": round(self.share, 6),
            "ci95": [round(self.low, 6), round(self.high, 6)],
        }


@dataclass(frozen=True)
class AnnotationGroup:
    """The outcomes of one annotation in one group: shares of each value, or the mean score."""

    key: str | None
    count: int
    shares: list[Share] = field(default_factory=list)  # categorical annotations
    mean: float | None = None  # numeric annotations
    mean_ci: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"group": self.key, "count": self.count}
        if self.mean is not None:
            data["mean"] = round(self.mean, 6)
            data["ci95"] = [round(bound, 6) for bound in self.mean_ci] if self.mean_ci is not None else None
        else:
            data["values"] = [share.as_dict() for share in self.shares]
        return data


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _category(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def annotation_groups(annotated: Iterable[AnnotatedTrace], by: str) -> tuple[str, list[AnnotationGroup]]:
    """("categorical" | "numeric", the groups): the annotation's values per trace-label group.

    An annotation is numeric when every value is a number (booleans are categories); then each group has
    the mean and its t interval, else the share of every value seen with its Wilson interval.
    """
    by = group_key(by)
    if not by.startswith("label."):
        raise StatsError(f"--by {by!r} with --annotation: annotations are grouped by a trace label (--by label.KEY)")
    key = by[len("label.") :]
    grouped: dict[str | None, list[Any]] = {}
    for item in annotated:
        grouped.setdefault(item.labels.get(key), []).append(item.annotation.value)
    every = [value for values in grouped.values() for value in values]
    numeric = bool(every) and all(_numeric(value) for value in every)
    categories = sorted({_category(value) for value in every}) if not numeric else []
    groups = []
    for group, values in sorted(grouped.items(), key=lambda item: str(item[0])):
        n = len(values)
        if numeric:
            numbers = [float(value) for value in values]
            groups.append(AnnotationGroup(group, n, mean=statistics.fmean(numbers), mean_ci=mean_interval(numbers)))
            continue
        counts = [sum(1 for value in values if _category(value) == category) for category in categories]
        shares = [
            Share(category, count, count / n, *wilson_interval(count, n))
            for category, count in zip(categories, counts, strict=True)
        ]
        groups.append(AnnotationGroup(group, n, shares=shares))
    return ("numeric" if numeric else "categorical"), groups
