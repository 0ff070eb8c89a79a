"""Documentation generated from the signature data: help pages and the README table."""

from __future__ import annotations

from psgdiag.model import KnowledgeBase, Signature
from psgdiag.pipeline.score import fill


def signature_row(sig: Signature, source: str) -> dict[str, object]:
    """One signature as `signatures list --format json` and the serve API list it."""
    return {
        "id": sig.id,
        "title": sig.title,
        "status": sig.status.value,
        "category": sig.category,
        "fault": sig.fault.value,
        "transient": sig.transient,
        "evidence": len(sig.evidence),
        "source": source,
    }


def help_page(sig: Signature) -> str:
    """Return a plain-text help page for one cause (like `ruff rule`); placeholders at defaults."""

    ex = sig.explain
    out = [
        f"{sig.id}: {sig.title}",
        "=" * (len(sig.id) + len(sig.title) + 2),
        "",
        f"side: {sig.fault.value}    retry helps: {'yes' if sig.transient else 'no'}    "
        f"status: {sig.status.value}    category: {sig.category}",
        "",
        "What",
        "  " + fill(ex.summary, {}),
    ]
    if ex.why:
        out += ["", "Why", *("  " + ln for ln in ex.why.splitlines())]
    if ex.note:
        out += ["", "Note", "  " + ex.note]
    if ex.hint:
        out += ["", "First step", "  " + fill(ex.hint, {})]
    if ex.settle:
        out += ["", "To tell it apart from look-alikes", "  " + fill(ex.settle, {})]
    out += ["", "Evidence"]
    for ev in sig.evidence:
        loc = f" [{ev.locale}]" if ev.locale else ""
        pat = (
            ev.pattern or (",".join(map(str, ev.statuses[:3])) + "...")
            if ev.statuses
            else ev.pattern
        )
        out.append(f"  - {ev.name} ({ev.strength.value}, {ev.kind}{loc}): {pat or 'true'}")
    out += ["", "Remedies"]
    for i, r in enumerate(sig.remedies, 1):
        grade = f"{r.scope.value}, {r.risk.value}" + (", admin" if r.admin else "")
        out.append(f"  {i}. {fill(r.title, {})} ({grade})")
        out.extend("       " + c for c in fill(r.command, {}).splitlines())
        if r.cost:
            out.append(f"     cost: {r.cost}")
        if r.verify:
            out.append(f"     verify: {fill(r.verify, {})}")
    if ex.false_positives:
        out += ["", "Known false positives"] + [f"  - {fp}" for fp in ex.false_positives]
    if sig.examples:
        out += ["", "Examples"]
        for e in sig.examples:
            first = e.text.strip().splitlines()[0] if e.text.strip() else ""
            out.append(f"  [{e.expect}] {first[:110]}")
    if sig.references:
        out += ["", "References"] + [f"  {r}" for r in sig.references]
    return "\n".join(out) + "\n"


def readme_table(kb: KnowledgeBase) -> str:
    """Return the Markdown table of signatures embedded in the README (checked by a test)."""
    rows = ["| id | side | retry helps | title |", "|---|---|---|---|"]
    for s in kb.signatures:
        rows.append(
            f"| `{s.id}` | {s.fault.value} | {'yes' if s.transient else 'no'} | {s.title} |"
        )
    return "\n".join(rows) + "\n"
