"""Fit the confidence calibration and measure it: writes psgdiag/data/calibration.toml and
docs/accuracy.md.

    python benchmarks/accuracy.py [--cases tests/cases] [--folds 5] [--budget 0.03] [--check]

The labelled cases are diagnosed as they are and, when the workplace's variant tools are present
(../shared/tools/scramble, ../shared/tools/retype), also as a console in a language nobody
catalogued and as a copy retyped from a screenshot: what a tool meets in the field is harder than
the cases it was written against. Every diagnosis shown is a sample (its raw score, whether it is
shown first, whether its cause is one the case accepts). Isotonic regression (pool adjacent
violators) fits a monotone curve for first diagnoses and one for the others; the reliability
table and the expected calibration error (ECE) are measured by K-fold cross-validation with all
variants of a case in the same fold, so no case is judged by a curve fitted on it. The
abstention threshold is the smallest calibrated confidence that keeps false positives on
near-miss logs (cases labelled "none") within --budget, measured the same way.
`--check` measures the shipped calibration without writing anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT.parent / "shared" / "tools"
BINS = 10


@dataclass(frozen=True)
class Sample:
    """One shown diagnosis: its case (for folds), raw score, position and whether it is right."""

    case: str
    variant: str
    raw: float
    first: bool
    right: bool
    negative: bool  # the case is a near miss: any diagnosis is a false positive


def _cases(folder: Path) -> list[tuple[str, Path, dict[str, object]]]:
    out = []
    for log in sorted(folder.rglob("*.log")):
        side = log.with_suffix(".json")
        if side.exists():
            meta = json.loads(side.read_text("utf-8"))
            if meta.get("expect"):
                out.append((log.relative_to(folder).as_posix(), log, meta))
    return out


def _variants(cases: Path, work: Path) -> dict[str, Path]:
    """The case folder, and its scrambled and retyped copies when the tools are there."""
    found = {"clean": cases}
    for name, cmd in (("scrambled", ["scramble", "--only-structured"]), ("retyped", ["retype"])):
        tool = TOOLS / cmd[0]
        if not tool.exists():
            continue
        out = work / name
        subprocess.run(
            [sys.executable, str(tool), str(cases), str(out), *cmd[1:]],
            check=True,
            capture_output=True,
        )
        found[name] = out
    return found


def collect(cases: Path, work: Path) -> tuple[list[Sample], set[str], dict[str, int]]:
    """Diagnose every case of every variant with the calibration switched off.

    Returns the samples, the near-miss cases (variant:case), diagnosed or not, and how many
    labelled failures each variant has (diagnosed or not: the top-1 denominator).
    """
    sys.path.insert(0, str(ROOT))
    from psgdiag import api
    from psgdiag.pipeline import calibrate
    from psgdiag.pipeline.when import parse_at

    identity = calibrate.Calibration(calibrate.Curve((), ()), calibrate.Curve((), ()), 0.0)
    calibrate.calibration.cache_clear()
    calibrate.calibration = lambda: identity  # type: ignore[assignment]
    kb = api.load_kb()
    samples: list[Sample] = []
    negatives: set[str] = set()
    positives: dict[str, int] = {}
    for variant, folder in _variants(cases, work).items():
        for name, log, meta in _cases(folder):
            case = name.replace("/", "__") if variant == "clean" else name
            raw_expect = meta["expect"]
            expect = [str(e) for e in raw_expect] if isinstance(raw_expect, list) else []
            if expect == ["none"]:
                negatives.add(f"{variant}:{case}")
            else:
                positives[variant] = positives.get(variant, 0) + 1
            at = meta.get("at")
            report = api.diagnose_bytes(
                log.read_bytes(), kb=kb, at=parse_at(str(at)) if at else None, source=name
            )
            for i, d in enumerate(report.diagnoses):
                right = expect != ["none"] and d.signature.id in expect
                samples.append(Sample(case, variant, d.score, i == 0, right, expect == ["none"]))
    return samples, negatives, positives


def isotonic(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pool adjacent violators: the monotone (x, y) curve closest to (x, 0/1) points."""
    blocks: list[list[float]] = []  # [sum_x, sum_y, count]
    for x, y in sorted(points):
        blocks.append([x, y, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            b = blocks.pop()
            blocks[-1] = [blocks[-1][0] + b[0], blocks[-1][1] + b[1], blocks[-1][2] + b[2]]
    return [(round(sx / n, 4), round(sy / n, 4)) for sx, sy, n in blocks]


def _curve(samples: Sequence[Sample], first: bool) -> list[tuple[float, float]]:
    chosen = [(s.raw, 1.0 if s.right else 0.0) for s in samples if s.first == first]
    return isotonic(chosen) if chosen else []


def _apply(curve: Sequence[tuple[float, float]], raw: float) -> float:
    sys.path.insert(0, str(ROOT))
    from psgdiag.pipeline.calibrate import Curve

    return min(Curve(tuple(x for x, _ in curve), tuple(y for _, y in curve))(raw), 0.99)


def cross_validate(samples: Sequence[Sample], folds: int) -> list[tuple[Sample, float]]:
    """Each sample with the probability a curve fitted without its case gives it."""
    cases = sorted({s.case for s in samples})
    fold_of = {c: i % folds for i, c in enumerate(cases)}
    out: list[tuple[Sample, float]] = []
    for k in range(folds):
        train = [s for s in samples if fold_of[s.case] != k]
        curves = {True: _curve(train, True), False: _curve(train, False)}
        out.extend((s, _apply(curves[s.first], s.raw)) for s in samples if fold_of[s.case] == k)
    return out


def reliability(
    pairs: Sequence[tuple[Sample, float]],
) -> tuple[list[tuple[str, int, float, float]], float]:
    """Rows (bin, count, mean confidence, share right) and the expected calibration error."""
    rows = []
    ece = 0.0
    for b in range(BINS):
        lo, hi = b / BINS, (b + 1) / BINS
        inside = [(s, p) for s, p in pairs if lo <= p < hi or (b == BINS - 1 and p >= hi)]
        if not inside:
            continue
        conf = sum(p for _, p in inside) / len(inside)
        acc = sum(1 for s, _ in inside if s.right) / len(inside)
        rows.append((f"{lo:.1f}-{hi:.1f}", len(inside), conf, acc))
        ece += len(inside) / len(pairs) * abs(conf - acc)
    return rows, ece


def abstain_threshold(
    pairs: Sequence[tuple[Sample, float]], negatives: set[str], budget: float
) -> tuple[float, float]:
    """Smallest threshold whose false-positive rate on near-miss cases is within the budget."""
    if not negatives:
        return 0.0, 0.0
    for t in [x / 100 for x in range(0, 100, 5)]:
        fp = {f"{s.variant}:{s.case}" for s, p in pairs if s.negative and s.first and p >= t}
        if len(fp) / len(negatives) <= budget:
            return t, len(fp) / len(negatives)
    return 0.95, 0.0


def _toml_points(curve: Sequence[tuple[float, float]]) -> str:
    return "[" + ", ".join(f"[{x}, {y}]" for x, y in curve) + "]"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=Path, default=ROOT / "tests" / "cases")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=0.03, help="false positives on near misses")
    ap.add_argument("--check", action="store_true", help="measure, write nothing")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="psgdiag-accuracy-"))
    try:
        samples, negatives, positives = collect(args.cases, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    pairs = cross_validate(samples, args.folds)
    rows, ece = reliability(pairs)
    threshold, fp_rate = abstain_threshold(pairs, negatives, args.budget)
    variants = sorted({s.variant for s in samples})
    firsts = [s for s in samples if s.first and not s.negative]
    top1 = {v: sum(1 for s in firsts if s.variant == v and s.right) for v in variants}
    table = "\n".join(f"| {b} | {n} | {c:.2f} | {a:.2f} |" for b, n, c, a in rows)
    cases = len({s.case for s in samples})
    print(f"{len(samples)} diagnoses from {cases} cases ({', '.join(variants)})")
    print(
        f"cross-validated ECE {ece:.3f} ({args.folds} folds); abstain below {threshold:.2f} "
        f"(near-miss false positives {fp_rate:.1%}, budget {args.budget:.0%})"
    )
    print("bin | diagnoses | mean confidence | right\n" + table)
    if args.check:
        return 0
    top, other = _curve(samples, True), _curve(samples, False)
    others = " and ".join(v for v in variants if v != "clean") or "as it is"
    today = dt.date.today().isoformat()
    (ROOT / "psgdiag" / "data" / "calibration.toml").write_text(
        "# Calibrated confidence (psgdiag/pipeline/calibrate.py). Written by\n"
        "# benchmarks/accuracy.py: do not edit by hand; run it again after changing signatures.\n"
        f'fitted = "{today}"\n'
        f"samples = {len(samples)}\n"
        f"variants = {json.dumps(variants)}\n"
        f"folds = {args.folds}\n"
        f"cross_validated_ece = {ece:.4f}\n"
        f"false_positive_budget = {args.budget}\n"
        f"abstain_below = {threshold}\n\n"
        "[top]  # the first diagnosis shown: (raw score, probability right)\n"
        f"points = {_toml_points(top)}\n\n"
        "[other]  # the further diagnoses shown\n"
        f"points = {_toml_points(other)}\n",
        encoding="utf-8",
    )
    (ROOT / "docs" / "accuracy.md").write_text(
        "# How often psgdiag is right, and what its confidence means\n\n"
        "Generated by `python benchmarks/accuracy.py` (do not edit by hand) on "
        f"{today}.\n\n"
        f"Measured on {len(samples)} diagnoses shown for the labelled cases of `tests/cases` "
        f"({cases} of them get a diagnosis), each also diagnosed {others} "
        "(every natural-language word replaced by a pseudo-word: a console in a language "
        "nobody catalogued; words mistyped: a copy retyped from a screenshot).\n\n"
        "## First diagnosis right (top-1)\n\n"
        + "\n".join(
            f"- {v}: {top1[v]} of {positives.get(v, 0)} labelled failures" for v in variants
        )
        + "\n\n## Reliability (cross-validated)\n\n"
        "The confidence shown is a calibrated probability: isotonic regression from the ranker's "
        f"raw score, fitted on {args.folds - 1}/{args.folds} of the cases and measured on the "
        "rest, all variants of a case in the same fold.\n\n"
        "| confidence | diagnoses | mean confidence | share right |\n|---|---|---|---|\n"
        f"{table}\n\nExpected calibration error: **{ece:.3f}**.\n\n"
        "## Abstention\n\n"
        f"A diagnosis below **{threshold:.0%}** calibrated confidence is not offered (it is listed "
        'under "also considered" instead). The threshold is the smallest that keeps false '
        f"positives on near-miss logs (cases labelled `none`) within {args.budget:.0%}; measured "
        f"by cross-validation: {fp_rate:.1%}.\n",
        encoding="utf-8",
    )
    print("wrote psgdiag/data/calibration.toml and docs/accuracy.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
