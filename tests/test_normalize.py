"""Normaliser rules: each console/CI quirk of message-catalog.md §1 has a test."""

from __future__ import annotations

from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import clean_line, detect_locales, normalize


def _doc(text: str):  # type: ignore[no-untyped-def]
    return normalize(RawText(text, "utf-8", "t"))


def test_ansi_colour_codes_are_stripped() -> None:
    text, _ = clean_line("\x1b[31;1mInstall-PSResource: \x1b[0m\x1b[31;1mboom\x1b[0m")
    assert text == "Install-PSResource: boom"


def test_colour_codes_that_lost_their_escape_are_stripped() -> None:
    # Copied from a CI web page: the ESC is gone, the codes stay.
    text, _ = clean_line("[31;1mInstall-Package: [0mC:\\x\\PSModule.psm1:9711")
    assert text == "Install-Package: C:\\x\\PSModule.psm1:9711"
    text, _ = clean_line("[31;1m     | [0m No match was found")
    assert text.endswith("No match was found") and "[" not in text


def test_github_timestamp_and_error_marker() -> None:
    text, stamped = clean_line(
        "2022-06-14T19:42:47.6003395Z ##[error]PackageManagement\\Install-Package : x"
    )
    assert stamped and text == "PackageManagement\\Install-Package : x"


def test_azure_logging_command_prefix() -> None:
    text, _ = clean_line("##vso[task.logissue type=error]Install-Module : boom")
    assert text == "Install-Module : boom"


def test_packer_builder_prefix_after_timestamp() -> None:
    text, _ = clean_line("2020-10-07T09:22:58Z:     azure-arm: VERBOSE: Using the provider")
    assert text == "VERBOSE: Using the provider"


def test_markdown_and_mail_quoting() -> None:
    assert clean_line("> > WARNING: Unable to resolve")[0] == "WARNING: Unable to resolve"
    assert clean_line("```powershell")[0] == ""


def test_ps7_conciseview_gutter() -> None:
    assert (
        clean_line("     | No match was found for the specified")[0]
        == "No match was found for the specified"
    )
    assert clean_line(" 9709 |  … talledPackages")[0].strip() == "… talledPackages"


def test_line_numbers_are_kept_and_blank_lines_count() -> None:
    doc = _doc("first\n\n\x1b[0mthird\r\nfourth")
    assert [(ln.no, ln.text) for ln in doc.lines] == [
        (1, "first"),
        (2, ""),
        (3, "third"),
        (4, "fourth"),
    ]


def test_wide_console_row_padding_is_split_into_rows() -> None:
    row = (
        "PS C:\\> Install-Module Az"
        + " " * 80
        + "PackageManagement\\Install-Package : Access to the cloud file is denied"
        + " " * 60
    )
    doc = _doc(row)
    assert [ln.text for ln in doc.lines][:2] == [
        "PS C:\\> Install-Module Az",
        "PackageManagement\\Install-Package : Access to the cloud file is denied",
    ]
    assert {ln.no for ln in doc.lines} == {1}


def test_streams_in_english_and_french() -> None:
    doc = _doc("VERBOSE: a\nWARNING: b\nCOMMENTAIRES : c\nAVERTISSEMENT : d\nplain")
    assert [ln.stream for ln in doc.lines] == ["verbose", "warning", "verbose", "warning", ""]


def test_locale_detection_from_engine_framing() -> None:
    doc = _doc("In C:\\x\\PSModule.psm1:1809 Zeichen:21\n")
    assert detect_locales(doc) == ("de",)
    assert detect_locales(_doc("At line:1 char:1")) == ()
