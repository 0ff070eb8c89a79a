"""The wheel ships the signatures and data, and works when installed from another directory."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import DATA, ROOT


def test_wheel_contains_signatures_and_runs_from_elsewhere(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(out.glob("psgdiag-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    sigs = sorted(n for n in names if n.startswith("psgdiag/signatures/"))
    bundled = sorted((ROOT / "signatures").glob("*.toml"))
    assert len(sigs) == len(bundled) > 0
    for data in (
        "psgdiag/data/incidents.toml",
        "psgdiag/data/extractors.toml",
        "psgdiag/data/framing.toml",
        "psgdiag/schemas/explain.schema.json",
        "psgdiag/triage/report.js",  # inlined into the HTML triage report
    ):
        assert data in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(site)!r}); sys.argv=['psgdiag','explain','-f','json',"
            f"{str(DATA / 'seed-2016-07.log')!r}]; from psgdiag.cli import main; main()",
        ],
        cwd=elsewhere,
        capture_output=True,
        check=False,
    )
    doc = json.loads(proc.stdout)
    assert doc["diagnoses"][0]["cause"] == "corrupt-package-download", proc.stderr
