"""The README's signature table is generated from the TOML files and must not drift."""

from __future__ import annotations

import os
import re

from psgdiag.kb.docs import readme_table
from tests.conftest import ROOT

START, END = "<!-- signatures:start -->\n", "<!-- signatures:end -->"


def test_readme_signature_table_is_current(kb) -> None:  # type: ignore[no-untyped-def]
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = re.search(re.escape(START) + r"(.*?)" + re.escape(END), text, re.S)
    assert block, "README lacks the signature table markers"
    want = readme_table(kb)
    if os.environ.get("PSGDIAG_UPDATE_README") and block.group(1) != want:
        readme.write_text(text.replace(block.group(0), START + want + END), encoding="utf-8")
        text = readme.read_text(encoding="utf-8")
        block = re.search(re.escape(START) + r"(.*?)" + re.escape(END), text, re.S)
        assert block
    assert block.group(1) == want, (
        "run PSGDIAG_UPDATE_README=1 python3 -m pytest tests/test_readme.py"
    )


def test_readme_states_the_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = re.search(r"## Run the tests\s+```sh\n(.+?)\n```", readme, re.S)
    assert test_cmd and test_cmd.group(1).strip() in ci
    assert re.search(r"pip install \. && psgdiag explain", readme)


def test_ci_runs_exactly_the_readmes_test_line() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Run the tests", 1)[1]
    line = re.search(r"```sh\n(.+)\n```", section)
    assert line is not None
    assert "pip install" in line.group(1) and "pytest" in line.group(1)
    ci = (ROOT / ".ci" / "run").read_text("utf-8").rstrip().splitlines()
    assert ci[-1] == line.group(1)
