"""Scoring: confidence, requires/excludes, causal chains, threshold, order, placeholders."""

from __future__ import annotations

from psgdiag import api
from psgdiag.model import KnowledgeBase, Strength
from psgdiag.pipeline.score import confidence, fill
from tests.sigfactory import make

ROOT = make(
    "root-cause",
    """
[[evidence]]
name = "eocd"
strength = "strong"
text = "End of Central Directory record could not be found"
[[evidence]]
name = "name"
strength = "context"
regex = '''Package '(?P<module>[^']+)' failed'''
[match]
requires_any = ["eocd"]
""",
    summary="The package {module|?} is damaged.",
    transient="true",
    fault="undetermined",
)
CONSEQUENCE = make(
    "consequence",
    """
[[evidence]]
name = "dep"
strength = "strong"
regex = '''Dependent (?:Package|Module) '[^']+' failed to install'''
[match]
requires_any = ["dep"]
[relations]
consequence_of = ["root-cause"]
""",
)
EXCLUDED = make(
    "excluded",
    """
[[evidence]]
name = "dep"
strength = "strong"
regex = '''Dependent (?:Package|Module) '[^']+' failed to install'''
[[evidence]]
name = "eocd"
strength = "context"
text = "End of Central Directory"
[match]
requires_any = ["dep"]
excludes = ["eocd"]
""",
)
WEAK = make(
    "weak-only",
    """
[[evidence]]
name = "w"
strength = "weak"
text = "failed to install"
[match]
requires_any = ["w"]
""",
)
KB = KnowledgeBase((CONSEQUENCE, EXCLUDED, ROOT, WEAK), "test")
LOG = (
    "WARNING: Package 'AzureRM.Profile' failed to be installed because: End of Central Directory "
    "record could not be found.\nWARNING: Dependent Package 'AzureRM.Profile' failed to install.\n"
)


def test_confidence_is_noisy_or_and_against_halves() -> None:
    from psgdiag.model import Hit

    def hit(name: str, s: Strength) -> Hit:
        return Hit(name, s, "text", 1, 1, "")

    assert confidence([hit("a", Strength.STRONG)]) == 0.9
    assert confidence([hit("a", Strength.STRONG), hit("b", Strength.MEDIUM)]) == 0.96
    assert confidence([hit("a", Strength.STRONG), hit("a", Strength.STRONG)]) == 0.9
    assert confidence([hit("a", Strength.STRONG), hit("c", Strength.AGAINST)]) == 0.45


def test_messages_one_fqid_line_stands_for_count_once() -> None:
    from psgdiag.model import Hit

    # One UnauthorizedAccess FQID line is every message raised with that id: one clue, not three.
    by_id = [Hit(n, Strength.WEAK, "message-fqid", 7, 7, "") for n in ("a", "b", "c")]
    assert confidence(by_id) == 0.25
    assert confidence([*by_id, Hit("d", Strength.MEDIUM, "message-fqid", 7, 7, "")]) == 0.6
    # The same messages recognised by their texts on different lines are separate clues.
    by_text = [Hit(n, Strength.WEAK, "message-template", i, i, "") for i, n in enumerate("ab", 1)]
    assert confidence(by_text) == 0.4375


def test_consequence_is_folded_into_its_root_cause() -> None:
    report = api.diagnose_text(LOG, kb=KB, incidents=())
    assert [d.signature.id for d in report.diagnoses] == ["root-cause"]
    assert report.diagnoses[0].consequences == ("consequence",)
    assert report.verdict == "retry"


def test_excluded_and_weak_candidates_explain_why_not() -> None:
    report = api.diagnose_text(LOG, kb=KB, incidents=())
    reasons = {w.cause: w.reason for w in report.runners_up}
    # in words from what the evidence matches, never an evidence name
    assert reasons["excluded"] == "ruled out by the words 'End of Central Directory'"
    assert reasons["weak-only"] == (
        "the evidence here is not enough; it would need more evidence of this cause"
    )
    excluded = next(w for w in report.runners_up if w.cause == "excluded")
    assert excluded.confidence == 0.0  # rejected: no confidence is offered for it


def test_a_competitor_appears_only_with_its_own_evidence() -> None:
    only_context = make(
        "context-only",
        """
[[evidence]]
name = "key"
strength = "strong"
text = "a sentence this log does not hold"
[[evidence]]
name = "ctx"
strength = "medium"
text = "failed to be installed because"
[match]
requires_any = ["key"]
""",
    )
    kb = KnowledgeBase((*KB.signatures, only_context), "test")
    report = api.diagnose_text(LOG, kb=kb, incidents=())
    assert "context-only" not in {w.cause for w in report.runners_up}


def test_summary_placeholders_are_filled_from_regex_groups() -> None:
    report = api.diagnose_text(LOG, kb=KB, incidents=())
    assert report.diagnoses[0].summary == "The package AzureRM.Profile is damaged."


def test_fill_defaults() -> None:
    assert fill("{module|the module} in {repository}", {}) == "the module in repository"
    assert fill("{module|x}", {"module": "Pester"}) == "Pester"


def test_nothing_recognised_gives_no_diagnosis() -> None:
    report = api.diagnose_text("ERROR: pip's dependency resolver failed\n", kb=KB, incidents=())
    assert report.diagnoses == () and report.verdict == "none"


def test_output_is_deterministic() -> None:
    a = api.diagnose_text(LOG, kb=KB, incidents=())
    b = api.diagnose_text(LOG, kb=KB, incidents=())
    assert a.diagnoses == b.diagnoses and a.runners_up == b.runners_up


def test_a_weak_root_does_not_swallow_a_strong_consequence() -> None:
    weak_root = make(
        "root-cause",
        """
[[evidence]]
name = "hint"
strength = "medium"
text = "Could not get response from query"
[match]
requires_any = ["hint"]
""",
    )
    kb = KnowledgeBase((CONSEQUENCE, weak_root), "test")
    log = "WARNING: Could not get response from query 'x'.\nDependent Package 'A' failed to install.\n"
    report = api.diagnose_text(log, kb=kb, incidents=())
    assert [d.signature.id for d in report.diagnoses] == ["consequence", "root-cause"]
