"""JUnit XML for test-result publishers: one test case per diagnosed failure.

Each report is a <testsuite>; its best diagnosis and any further ones are failed <testcase>s
(classname `psgdiag.<side>`, name `<cause-id>`), and a report with no diagnosis is one passing
case, so a published run always shows what psgdiag looked at. No timestamps or durations are
written: the same input gives the same file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TextIO

from psgdiag import regexcode
from psgdiag.model import Report
from psgdiag.redact.report import masked_report
from psgdiag.render import Options
from psgdiag.render.github import body

# XML 1.0 forbids most C0 controls (an ANSI escape in a quoted log line would make the file
# unreadable), lone surrogates and U+FFFE/U+FFFF.
_NOT_XML = regexcode.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Return text with the characters XML 1.0 cannot carry shown as \\xNN escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _suite(report: Report) -> ET.Element:
    source = report.document.source
    suite = ET.Element("testsuite", name=xml_text(f"psgdiag: {source}"))
    for d in report.diagnoses:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"psgdiag.{d.fault.value}",
            name=d.signature.id,
        )
        failure = ET.SubElement(
            case,
            "failure",
            message=xml_text(f"{d.signature.title}: {d.summary}"),
            type=d.signature.id,
        )
        failure.text = xml_text(body(report, d))
    if not report.diagnoses:
        ET.SubElement(suite, "testcase", classname="psgdiag", name="no-known-cause")
    if report.notes:
        out = ET.SubElement(suite, "system-out")
        out.text = xml_text("\n".join(report.notes))
    failed = len(report.diagnoses)
    suite.set("tests", str(max(failed, 1)))
    suite.set("failures", str(failed))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite


def render(reports: Sequence[Report], out: TextIO, options: Options) -> None:
    """Write one <testsuites> document for all reports (the input's secrets masked if asked)."""
    shown = [masked_report(r) for r in reports] if options.redact else reports
    root = ET.Element("testsuites", name="psgdiag")
    suites = [_suite(r) for r in shown]
    root.extend(suites)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
