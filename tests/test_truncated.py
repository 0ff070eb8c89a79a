"""psgdiag.kb.truncated: a message quoted only up to the end of its first sentence."""

from __future__ import annotations

from psgdiag import api
from psgdiag.kb.truncated import MAX_OWNERS, first_sentence, unique_first_sentences
from psgdiag.model import Message, Said
from psgdiag.pipeline.ingest import decode
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.recognise import recognise_everything


def msg(msg_id: str, template: str) -> Message:
    return Message(msg_id, "Test", msg_id, template, "error", "test")


def said(log: str) -> tuple[Said, ...]:
    return recognise_everything(normalize(decode(log.encode("utf-8"), "test.log")))


def test_the_first_sentence_is_cut_where_more_text_follows() -> None:
    assert (
        first_sentence("Unable to find repository '{repository}'. Use Get-PSRepository to see.")
        == "Unable to find repository '{repository}'."
    )
    assert first_sentence("Cannot find '2.8.5.201' on the list of providers.") is None
    assert first_sentence("One sentence only.") is None


def test_only_sentences_that_say_which_message_are_kept() -> None:
    shared = "The quick brown package '{name}' jumped over the fence."
    messages = [
        msg("A.Long", "The module '{module}' cannot be installed here at all. Try another folder."),
        msg("B.Whole", "Something went wrong with the request entirely. Ask again later."),
        msg("C.Equal", "Something went wrong with the request entirely."),
        msg("D.Short", "It failed. Try again."),
        *(msg(f"E{i}.Shared", f"{shared} Detail number {i}.") for i in range(MAX_OWNERS + 1)),
        msg("F.Few@1", f"{shared[:-1]}s. One wording."),
        msg("F.Few@2", f"{shared[:-1]}s. Another wording."),
    ]
    kept = unique_first_sentences(messages)
    assert kept["A.Long"] == "The module '{module}' cannot be installed here at all."
    assert "B.Whole" not in kept  # another message's whole text
    assert "D.Short" not in kept  # too short to stand for a message
    assert not any(k.startswith("E") for k in kept)  # begins too many messages
    assert {"F.Few@1", "F.Few@2"} <= set(kept)  # wordings of one message count once


def test_a_quoted_first_sentence_is_recognised_as_a_weaker_copy() -> None:
    log = "Get-PackageSource: Unable to find repository 'PSGallery'.\n##[error]Process completed with exit code 1.\n"
    found = {s.message: s for s in said(log) if s.how == "truncated"}
    assert "PowerShellGet.SourceNotFound" in found
    assert dict(found["PowerShellGet.SourceNotFound"].slots) == {"repository": "PSGallery"}
    report = api.diagnose_text(log)
    assert report.diagnoses and report.diagnoses[0].signature.id == "psgallery-not-registered"


def test_the_whole_text_is_preferred_to_its_first_sentence() -> None:
    log = (
        "Install-Module : Unable to find repository 'PSGallery'. Use Get-PSRepository to see all "
        "available repositories.\n"
    )
    ways = {(s.message, s.how) for s in said(log)}
    assert ("PowerShellGet.SourceNotFound", "template") in ways
    assert ("PowerShellGet.SourceNotFound", "truncated") not in ways
