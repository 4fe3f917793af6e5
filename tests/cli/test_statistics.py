"""The statistics behind `llmtap stats`, against values derived independently: the Wilson interval against
published figures (Newcombe 1998, Table I) and its closed forms at 0 and n, the t quantiles against a numerical
integration of Student's density, percentiles by hand."""

from __future__ import annotations

import math

import pytest

from llmtap.stats import mean_interval, percentile, t_975, wilson_interval

Z2 = 1.959963984540054**2


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe(successes: int, n: int, low: float, high: float) -> None:
    found = wilson_interval(successes, n)
    assert found == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_wilson_closed_forms_at_the_ends(n: int) -> None:
    # x = 0: [0, z²/(n+z²)]; x = n: [n/(n+z²), 1] (the centre and half-width coincide there).
    assert wilson_interval(0, n) == pytest.approx((0.0, Z2 / (n + Z2)), abs=1e-12)
    assert wilson_interval(n, n) == pytest.approx((n / (n + Z2), 1.0), abs=1e-12)


def _t_density(x: float, df: int) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))


def _t_cdf(x: float, df: int, steps: int = 4000) -> float:
    h = x / steps  # Simpson's rule over [0, x], plus the half below 0
    total = _t_density(0, df) + _t_density(x, df)
    total += sum((4 if i % 2 else 2) * _t_density(i * h, df) for i in range(1, steps))
    return 0.5 + total * h / 3


def _t_quantile(p: float, df: int) -> float:
    """Newton's method on the integrated CDF, from the normal quantile (the CDF is concave above 0, so the
    iterates rise monotonically to the root)."""
    x = 1.959963984540054
    for _ in range(100):
        step = (p - _t_cdf(x, df)) / _t_density(x, df)
        x += step
        if abs(step) < 1e-10:
            break
    return x


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 17, 29, 30, 31, 45, 120, 1000])
def test_t_quantile_matches_the_integrated_density(df: int) -> None:
    assert t_975(df) == pytest.approx(_t_quantile(0.975, df), abs=2e-6)


def test_mean_interval() -> None:
    assert mean_interval([3.0]) is None
    low, high = mean_interval([4.0, 5.0])  # mean 4.5, s = sqrt(0.5), se = 0.5
    assert (low, high) == pytest.approx((4.5 - 0.5 * _t_quantile(0.975, 1), 4.5 + 0.5 * _t_quantile(0.975, 1)))
    low, high = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])  # s = sqrt(2.5)
    half = _t_quantile(0.975, 4) * math.sqrt(2.5) / math.sqrt(5)
    assert (low, high) == pytest.approx((3 - half, 3 + half))


def test_percentiles_interpolate_between_closest_ranks() -> None:
    values = [100.0, 200.0, 300.0]  # rank (n-1)q: p50 -> 1, p95 -> 1.9, p99 -> 1.98
    assert [percentile(values, q) for q in (50, 95, 99)] == pytest.approx([200.0, 290.0, 298.0])
    assert [percentile([7.0], q) for q in (50, 95, 99)] == [7.0, 7.0, 7.0]
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)
