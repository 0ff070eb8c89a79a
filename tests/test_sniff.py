"""Input that is not a log: named by its content, refused by `explain` (exit 4), a row in triage.

Logs in UTF-16, legacy code pages, with damaged bytes, stray NULs or ANSI colours stay text and
are still diagnosed; `run` never refuses a build log.
"""

from __future__ import annotations

import gzip
import io
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.errors import ExitCode
from psgdiag.pipeline.sniff import sniff
from psgdiag.triage.batch import triage_paths
from tests.conftest import CASES, DATA

SEED = DATA / "seed-2016-07.log"
SEED_UTF16 = DATA / "seed-2016-07-utf16.log"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _random(n: int, seed: int = 15) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.getrandbits(8) for _ in range(n))


def _mostly_binary() -> bytes:
    """A file that is 70 % binary records and 30 % readable strings, like a program's resources."""
    parts = []
    for i in range(200):
        parts.append(_random(70, i) + f"Install-Module record {i}\n".encode())
    return b"".join(parts)


NOT_LOGS: dict[str, tuple[bytes, str]] = {
    "install.zip": (_zip({"install.log": SEED.read_bytes()}), "a ZIP archive"),
    "report.docx": (
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
        "an Office document",
    ),
    "logs.tar.gz": (gzip.compress(SEED.read_bytes()), "a gzip archive"),
    "logs.7z": (b"7z\xbc\xaf\x27\x1c\x00\x04" + _random(500), "a 7-Zip archive"),
    "logs.rar": (b"Rar!\x1a\x07\x01\x00" + _random(500), "a RAR archive"),
    "logs.xz": (b"\xfd7zXZ\x00" + _random(500), "an xz archive"),
    "logs.bz2": (b"BZh91AY&SY" + _random(500), "a bzip2 archive"),
    "screenshot.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _random(3000), "a PNG image"),
    "screenshot.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + _random(3000), "a JPEG image"),
    "capture.gif": (b"GIF89a" + _random(3000), "a GIF image"),
    "capture.webp": (b"RIFF\x00\x10\x00\x00WEBPVP8 " + _random(3000), "a WebP image"),
    "ticket.pdf": (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "a PDF document",
    ),
    "mail.msg": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "an Outlook message"),
    "tool.exe": (b"MZ\x90\x00\x03\x00\x00\x00" + _random(2000), "a Windows program"),
    "tool": (b"\x7fELF\x02\x01\x01\x00" + _random(2000), "a program (ELF)"),
    "events.evtx": (b"ElfFile\x00" + bytes(4000), "a Windows event log"),
    "random.bin": (_random(3000), "binary data"),
    "resources.bin": (_mostly_binary(), "binary data"),
    "zeroed.log": (bytes(8192), "only NUL bytes"),
}


@pytest.mark.parametrize("name", sorted(NOT_LOGS))
def test_what_is_not_a_log_is_named_by_its_content(name: str) -> None:
    data, kind = NOT_LOGS[name]
    found = sniff(data)
    assert found is not None and found.kind.startswith(kind), found


def _texts() -> list[tuple[str, bytes]]:
    text = SEED.read_text("utf-8")
    legacy = "Install-Module : Le module « Az » a été refusé par l'éditeur, réessayez.\r\n" * 40
    return [
        ("utf-16-le-bom", b"\xff\xfe" + text.encode("utf-16-le")),
        ("utf-16-be-bom", b"\xfe\xff" + text.encode("utf-16-be")),
        ("utf-16-le", text.encode("utf-16-le")),
        ("utf-16-be", text.encode("utf-16-be")),
        ("cp1252", legacy.encode("cp1252")),
        ("cp850", legacy.encode("cp850")),
        ("shift-jis", ("インストールに失敗しました。 Install-Module Az\n" * 50).encode("cp932")),
        ("a-few-odd-bytes", text.encode() + b"\xff\xfe\x80\x00\x07 tail\n"),
        ("crash-tail-of-nuls", text.encode() + bytes(16_384)),
        ("ansi-colours", ("\x1b[31;1m" + text.replace("\n", "\x1b[0m\n")).encode()),
        ("empty", b""),
        ("blank", b"\r\n" * 100),
    ]


@pytest.mark.parametrize(("name", "data"), _texts(), ids=[n for n, _ in _texts()])
def test_text_in_any_encoding_is_still_text(name: str, data: bytes) -> None:
    assert sniff(data) is None


def test_no_sample_log_is_taken_for_binary() -> None:
    logs = sorted(CASES.rglob("*.log")) + sorted(DATA.glob("*.log"))
    assert len(logs) > 100
    flagged = [str(p) for p in logs if sniff(p.read_bytes()) is not None]
    assert flagged == []


@pytest.mark.parametrize("name", ["install.zip", "screenshot.png", "ticket.pdf", "random.bin"])
def test_explain_refuses_it_with_one_line_and_exit_4(tmp_path: Path, name: str) -> None:
    data, kind = NOT_LOGS[name]
    path = tmp_path / name
    path.write_bytes(data)
    res = CliRunner().invoke(app, ["explain", str(path)])
    assert res.exit_code == int(ExitCode.INPUT), res.output
    lines = res.stderr.strip().splitlines()
    assert lines[0] == f"psgdiag: error: {path} is {kind}, not a text log"
    assert len(lines) == 2 and lines[1].startswith("  hint: ")
    assert "Traceback" not in res.stderr and res.stdout == ""
    if name.endswith(".zip"):
        assert lines[1] == f"  hint: psgdiag triage {path} reads every log inside it"


def test_explain_refuses_random_bytes_on_standard_input() -> None:
    res = CliRunner().invoke(app, ["explain", "-f", "json"], input=_random(3000))
    assert res.exit_code == int(ExitCode.INPUT)
    assert res.stderr.startswith("psgdiag: error: standard input is binary data, not a text log")
    assert res.stdout == ""


def test_explain_refuses_even_one_bad_file_among_good_ones(tmp_path: Path) -> None:
    (tmp_path / "shot.png").write_bytes(NOT_LOGS["screenshot.png"][0])
    res = CliRunner().invoke(app, ["explain", "-f", "json", str(SEED), str(tmp_path / "shot.png")])
    assert res.exit_code == int(ExitCode.INPUT) and "shot.png is a PNG image" in res.stderr


@pytest.mark.parametrize("path", [SEED_UTF16, CASES / "tls12-required"])
def test_utf16_and_sample_logs_are_still_diagnosed(path: Path) -> None:
    log = path if path.is_file() else sorted(path.glob("*.log"))[0]
    res = CliRunner().invoke(app, ["explain", "-f", "json", str(log)])
    assert res.exit_code in (int(ExitCode.FIX), int(ExitCode.RETRY)), res.output
    assert '"cause"' in res.stdout


def test_run_never_fails_a_build_on_junk_in_its_log() -> None:
    junk = "import sys; sys.stdout.buffer.write(bytes(range(256)) * 20); sys.exit(1)"
    cmd = [sys.executable, "-m", "psgdiag", "run", "--format", "github", "--"]
    proc = subprocess.run(
        [*cmd, sys.executable, "-c", junk], capture_output=True, timeout=300, check=False
    )
    assert proc.returncode == 1  # the command's own code, never psgdiag's "unreadable input"
    assert b"not a text log" not in proc.stderr


def test_triage_gives_the_same_verdict_its_own_row(tmp_path: Path) -> None:
    for name in ("screenshot.png", "random.bin", "ticket.pdf"):
        (tmp_path / name).write_bytes(NOT_LOGS[name][0])
    (tmp_path / "good.log").write_bytes(SEED_UTF16.read_bytes())
    rows = {Path(it.path).name: it for it in triage_paths([str(tmp_path)], jobs=1).items}
    assert rows["good.log"].status == "diagnosed"
    for name in ("screenshot.png", "random.bin", "ticket.pdf"):
        assert rows[name].status == "binary"
        assert rows[name].note == f"{NOT_LOGS[name][1]}, not a text log"
