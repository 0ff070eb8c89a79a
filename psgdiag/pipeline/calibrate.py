"""Calibrated confidence: the shown number is the measured chance that the diagnosis is right.

The ranker's raw score (a noisy-or of evidence strengths) orders causes well but is not a
probability. `data/calibration.toml` maps it to one, separately for the first diagnosis and for
the others shown, as monotone piecewise-linear curves fitted by isotonic regression on labelled
cases (benchmarks/accuracy.py, which also writes docs/accuracy.md with the cross-validated
reliability). A first diagnosis whose calibrated confidence is below `abstain_below` is not
offered: that threshold keeps false positives on near-miss logs within the stated budget; a
further one is shown only from 10 % (psgdiag.pipeline.score.MIN_FURTHER).
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from psgdiag.cache import data_toml
from psgdiag.record import record


@record
class Curve:
    """A monotone piecewise-linear map from raw score to probability."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]

    def __call__(self, raw: float) -> float:
        if not self.xs:
            return raw
        if raw <= self.xs[0]:
            return self.ys[0]
        if raw >= self.xs[-1]:
            return self.ys[-1]
        i = bisect.bisect_right(self.xs, raw)
        x0, x1, y0, y1 = self.xs[i - 1], self.xs[i], self.ys[i - 1], self.ys[i]
        return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1


@record
class Calibration:
    """The fitted curves, the abstention threshold and what they were measured on."""

    top: Curve
    other: Curve
    abstain_below: float = 0.0
    meta: dict[str, object] | None = None


def _curve(raw: object) -> Curve:
    points = raw if isinstance(raw, list) else []
    pairs = sorted(
        (float(p[0]), float(p[1])) for p in points if isinstance(p, list) and len(p) == 2
    )
    return Curve(tuple(x for x, _ in pairs), tuple(y for _, y in pairs))


@lru_cache(maxsize=1)
def calibration() -> Calibration:
    """The shipped calibration (identity curves when none is fitted)."""
    raw = data_toml("calibration.toml")
    return Calibration(
        top=_curve(raw.get("top", {}).get("points")),
        other=_curve(raw.get("other", {}).get("points")),
        abstain_below=float(raw.get("abstain_below", 0.0)),
        meta={k: v for k, v in raw.items() if k not in ("top", "other", "abstain_below")},
    )


def probability(raw: float, first: bool) -> float:
    """The calibrated confidence of a diagnosis with this raw score (first shown or not)."""
    cal = calibration()
    return round(min((cal.top if first else cal.other)(raw), 0.99), 3)
