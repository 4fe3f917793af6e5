"""Agreement between reviewers per annotation name: percent agreement and Krippendorff's alpha.

Alpha comes from the `krippendorff` package (`pip install llmtap[review]`): nominal for categorical and
boolean annotations, interval for scores; any number of reviewers, missing ratings allowed. Text
annotations (corrections) have no agreement figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from llmtap.annotations.schema import AnnotationSchema
from llmtap.errors import LlmtapError

LEVELS = {"categorical": "nominal", "boolean": "nominal", "score": "interval"}


@dataclass(frozen=True, slots=True)
class Agreement:
    name: str
    level: str | None  # nominal | interval | None (text: not measured)
    items: int  # items with at least one rating
    paired_items: int  # items with two or more ratings (the only ones agreement can use)
    ratings: int
    reviewers: int
    percent: float | None  # share of agreeing pairs of ratings of the same item, 0..1
    alpha: float | None  # Krippendorff's alpha; None when undefined (too few pairs, or a single value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "level": self.level,
            "items": self.items,
            "paired_items": self.paired_items,
            "ratings": self.ratings,
            "reviewers": self.reviewers,
            "percent_agreement": self.percent,
            "alpha": self.alpha,
        }


def percent_agreement(units: Sequence[Sequence[Any]]) -> float | None:
    """Of every pair of ratings given to the same unit, the share that are equal (None without pairs)."""
    pairs = agreeing = 0
    for ratings in units:
        for first, second in combinations(ratings, 2):
            pairs += 1
            agreeing += first == second
    return agreeing / pairs if pairs else None


def krippendorff_alpha(matrix: Sequence[Sequence[float | None]], level: str) -> float | None:
    """Alpha of a reviewers x items matrix (None = missing), or None when it is undefined."""
    if not any(sum(row[item] is not None for row in matrix) >= 2 for item in range(len(matrix[0]) if matrix else 0)):
        return None  # no item rated twice: undefined, and no need for the optional package
    try:
        import krippendorff
        import numpy
    except ImportError:
        raise LlmtapError(
            "Krippendorff's alpha needs the krippendorff package; expected it installed: pip install 'llmtap[review]'"
        ) from None
    data = numpy.array([[math.nan if value is None else value for value in row] for row in matrix], dtype=float)
    try:
        result = float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):  # a single value in the domain: alpha is undefined
        return None
    return None if math.isnan(result) else result


def agreement(schema: AnnotationSchema | None, name: str, ratings: Mapping[Any, Mapping[str, Any]]) -> Agreement:
    """Agreement on `name` from `ratings`: item -> reviewer -> value (the value as recorded)."""
    kind = schema.type if schema is not None else None
    level = LEVELS.get(kind or "")
    reviewers = sorted({reviewer for by_reviewer in ratings.values() for reviewer in by_reviewer})
    units = [list(by_reviewer.values()) for by_reviewer in ratings.values() if by_reviewer]
    paired = [unit for unit in units if len(unit) >= 2]
    percent = alpha = None
    if level is not None:
        percent = percent_agreement(units)
        items = list(ratings)
        matrix = [[_code(schema, ratings[item].get(reviewer)) for item in items] for reviewer in reviewers]
        alpha = krippendorff_alpha(matrix, level)
    return Agreement(
        name=name,
        level=level,
        items=len(units),
        paired_items=len(paired),
        ratings=sum(len(unit) for unit in units),
        reviewers=len(reviewers),
        percent=percent,
        alpha=alpha,
    )


def _code(schema: AnnotationSchema | None, value: Any) -> float | None:
    """A rating as the number alpha works on: a categorical label's position, a boolean's 0/1, a score."""
    if value is None or schema is None:
        return None
    if schema.type == "categorical":
        return float(schema.labels.index(value)) if value in schema.labels else None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value)
