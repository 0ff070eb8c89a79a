"""`psgdiag probe` and `explain --probe` against real NuGet v2 servers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.probe.feed import parse_feed, pick
from psgdiag.probe.model import Deadline, ProbeTimeout
from tests.probe_server import (
    MODULE,
    Certs,
    Proxy407Handler,
    gallery,
    make_certs,
    make_package,
    serve,
    server_context,
    silent,
    tunnel_proxy,
)

ROOT = Path(__file__).resolve().parent.parent
# A real-shaped log: a dependency's download came back damaged (Save-Module -Verbose).
SEED_LOG = (
    ROOT / "tests" / "cases" / "corrupt-package-download" / "02-azurerm-save-2016-verbose.log"
)
SEED_PACKAGE = ("AzureRM.OperationalInsights", "1.0.8")
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SCHEMA = json.loads(
    resources.files("psgdiag.schemas").joinpath("probe.schema.json").read_text("utf-8")
)
PROBE = (sys.executable, "-m", "psgdiag", "probe")
runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own proxy settings must not route test traffic anywhere."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A test CA plus good, expired and self-signed server certificates."""
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def trust(certs: Certs, monkeypatch: pytest.MonkeyPatch) -> Certs:
    """Trust the test CA (OpenSSL reads SSL_CERT_FILE when a context loads its defaults)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    return certs


def probe(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Run `psgdiag probe ... -f json` in-process; return the exit code and the parsed JSON."""
    res = runner.invoke(app, ["probe", *args, "-f", "json", "--timeout", "20"], env=env)
    assert res.stdout.lstrip().startswith("{"), res.stdout + str(res.exception)
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)  # every mode's output keeps the published shape
    return res.exit_code, doc


def rich(*args: str) -> tuple[int, str]:
    """Run `psgdiag probe ...` with the rich report."""
    res = runner.invoke(app, ["probe", *args, "--no-color", "--timeout", "20"])
    return res.exit_code, res.stdout


def steps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The steps by name."""
    return {s["name"]: s for s in doc["steps"]}


@pytest.fixture
def healthy() -> Iterator[Any]:
    """A healthy gallery whose downloads redirect to a CDN on another port."""
    with gallery("healthy") as g:
        yield g


def test_healthy_http_gallery_is_ok_and_reports_the_cdn(healthy: Any) -> None:
    code, doc = probe(MODULE, "--repository", healthy.base)
    assert (code, doc["verdict"], doc["side"]) == (0, "ok", "none")
    by = steps(doc)
    assert by["tls"]["status"] == "skip" and "http://" in by["tls"]["detail"]
    assert by["feed"]["data"]["package_hash_algorithm"] == "SHA512"
    assert doc["version"] == "1.2.0"  # the latest stable, as Install-Module picks
    cdn = healthy.cdn_base.split("//", 1)[1]
    assert doc["cdn_host"] == cdn
    download = by["download"]["data"]
    assert download["received"] == download["content_length"] == download["package_size"]
    assert by["zip"]["data"]["nuspec"] == f"{MODULE}.nuspec"
    assert by["hash"]["status"] == "pass"
    assert all(isinstance(s["ms"], int) for s in doc["steps"])


def test_healthy_rich_report_is_readable(healthy: Any) -> None:
    code, out = rich(MODULE, "--repository", healthy.base, "--version", "1.0.0")
    assert code == 0
    assert healthy.exact_queries == 1  # Packages(Id=...,Version=...) as -RequiredVersion does
    assert "1 version(s) listed in 1 query" in out
    assert f"probe {MODULE} 1.0.0 at {healthy.base}" in out
    for name in ("connect", "feed", "download", "zip", "hash"):
        assert name in out
    assert "verdict: ok" in out
    assert "package served by:" in out


def test_credentials_go_to_the_repository_only(healthy: Any) -> None:
    repo = healthy.base.replace("http://", "http://alice:s3cret@")
    code, doc = probe(MODULE, "--repository", repo)
    assert code == 0
    assert healthy.seen_auth["gallery"] and all(
        a.startswith("Basic ") for a in healthy.seen_auth["gallery"]
    )
    assert healthy.seen_auth["cdn"] == [""]  # the cross-origin redirect lost the credentials
    assert "s3cret" not in json.dumps(doc)
    assert "alice:***@" in doc["repository"]


@pytest.mark.parametrize("mode", ["truncated", "cut"])
def test_short_package_is_a_corrupt_download(mode: str) -> None:
    with gallery(mode) as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
    assert (doc["verdict"], doc["failed_step"], code) == ("corrupt-package-download", "download", 3)
    by = steps(doc)
    assert "End of Central Directory" in by["zip"]["detail"]
    assert by["hash"]["status"] == "fail"  # its hash differs too
    assert "verdict: corrupt-package-download (service side)" in out
    assert "FAIL (corrupt-package-download)" in out


def test_intact_package_with_another_hash_is_a_hash_mismatch() -> None:
    with gallery("badhash") as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
    assert (doc["verdict"], doc["failed_step"], code) == ("package-hash-mismatch", "hash", 3)
    assert steps(doc)["zip"]["status"] == "pass"
    assert doc["steps"][-1]["data"]["expected"] != doc["steps"][-1]["data"]["actual"]
    assert "verdict: package-hash-mismatch" in out


def test_package_broken_before_hashing_fails_the_zip_check() -> None:
    with gallery("badupload") as g:
        code, doc = probe(MODULE, "--repository", g.base)
    by = steps(doc)
    assert (doc["verdict"], doc["failed_step"], code) == ("corrupt-package-download", "zip", 3)
    assert "payload.bin cannot be unpacked" in by["zip"]["detail"]
    assert by["hash"]["status"] == "pass"  # the feed hashed the damaged bytes
    assert "stored broken (a bad upload)" in doc["summary"]


def test_503_reports_retry_after_without_waiting() -> None:
    with gallery("503") as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
    assert (doc["verdict"], code, doc["retry_after"]) == ("gallery-service-error", 3, "120")
    assert "503" in steps(doc)["feed"]["detail"]
    assert "Retry-After: 120 (reported, not waited for)" in out
    assert steps(doc)["download"]["status"] == "skip"


def test_404_and_unknown_version_are_module_not_found() -> None:
    with gallery("healthy") as g:
        code, doc = probe("NoSuchModule", "--repository", g.base)
        assert (doc["verdict"], code) == ("module-not-found", 1)
        code, doc = probe(MODULE, "--repository", g.base, "--version", "9.9.9")
        assert (doc["verdict"], code) == ("module-not-found", 1)
        assert "latest listed: 1.0.0, 1.2.0" in steps(doc)["feed"]["detail"]
        _, out = rich("NoSuchModule", "--repository", g.base)
    assert "verdict: module-not-found (client side)" in out


def test_redirect_loop_is_a_service_error() -> None:
    with gallery("loop") as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
    assert (doc["verdict"], doc["failed_step"], code) == ("gallery-service-error", "download", 3)
    assert "redirect loop" in steps(doc)["download"]["detail"]
    assert "redirect loop" in out


def test_proxy_407_on_plain_http_via_option(healthy: Any) -> None:
    with serve(Proxy407Handler) as proxy:
        code, doc = probe(MODULE, "--repository", healthy.base, "--proxy", proxy)
        _, out = rich(MODULE, "--repository", healthy.base, "--proxy", proxy)
    assert (doc["verdict"], code) == ("proxy-auth-required", 1)
    assert "407" in steps(doc)["feed"]["detail"]
    assert "verdict: proxy-auth-required" in out
    assert healthy.seen_auth["gallery"] == []  # nothing got past the proxy


def test_proxy_407_on_tunnel_from_environment_and_no_proxy_bypass(trust: Certs) -> None:
    with gallery("healthy", tls=server_context(trust.good)) as g, serve(Proxy407Handler) as proxy:
        code, doc = probe(MODULE, "--repository", g.base, env={"HTTPS_PROXY": proxy})
        assert (doc["verdict"], doc["failed_step"], code) == ("proxy-auth-required", "connect", 1)
        bare = proxy.removeprefix("http://")  # HTTPS_PROXY=host:port is common too
        code, doc = probe(MODULE, "--repository", g.base, env={"HTTPS_PROXY": bare})
        assert (doc["verdict"], doc["failed_step"], code) == ("proxy-auth-required", "connect", 1)
        env = {"HTTPS_PROXY": proxy, "NO_PROXY": "127.0.0.1"}
        code, doc = probe(MODULE, "--repository", g.base, env=env)
        assert (doc["verdict"], code) == ("ok", 0)


def test_https_through_a_tunnel_proxy_with_credentials(trust: Certs) -> None:
    wanted = "Basic " + base64.b64encode(b"carol:pa:ss").decode()
    handler, tunnels = tunnel_proxy(wanted)
    with gallery("healthy", tls=server_context(trust.good)) as g, serve(handler) as proxy:
        target = g.base.split("//", 1)[1].split("/", 1)[0]
        code, doc = probe(MODULE, "--repository", g.base, "--proxy", proxy)
        assert (doc["verdict"], doc["failed_step"], code) == ("proxy-auth-required", "connect", 1)
        authed = proxy.replace("http://", "http://carol:pa%3Ass@")
        code, doc = probe(MODULE, "--repository", g.base, "--proxy", authed)
    assert (doc["verdict"], code) == ("ok", 0)
    assert "tunnel to" in steps(doc)["connect"]["detail"]
    assert steps(doc)["tls"]["status"] == "pass"
    connects = [t for t in tunnels if not t.startswith("http://")]
    assert set(connects) == {target} and len(connects) >= 4  # raw steps and httpx alike
    assert any(t.startswith(healthy_cdn(doc)) for t in tunnels)  # the http:// CDN too
    assert "pa%3Ass" not in json.dumps(doc) and "pa:ss" not in json.dumps(doc)


def healthy_cdn(doc: dict[str, Any]) -> str:
    """The CDN origin a probe's download ended on."""
    return "http://" + str(doc["cdn_host"])


def test_stalled_body_ends_within_the_timeout_budget() -> None:
    with gallery("stall") as g:
        started = time.monotonic()
        proc = subprocess.run(
            [*PROBE, MODULE, "--repository", g.base, "--timeout", "4", "-f", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            env=_clean_env(),
        )
        elapsed = time.monotonic() - started
        shown = runner.invoke(app, ["probe", MODULE, "--repository", g.base, "--timeout", "2"])
    doc = json.loads(proc.stdout)
    assert (doc["verdict"], proc.returncode) == ("network-unreachable", 1)
    assert doc["failed_step"] in ("download", "deadline")
    assert steps(doc)["download"]["data"]["received"] > 0  # it stalled mid-body
    assert elapsed < 60  # a wide margin over the 4 s budget: it did not wait for the server
    assert shown.exit_code == 1 and "verdict: network-unreachable (client side)" in shown.stdout
    assert "timed out" in shown.stdout


def test_silent_tls_server_is_unreachable_within_the_budget() -> None:
    with silent() as base:
        started = time.monotonic()
        res = runner.invoke(
            app, ["probe", MODULE, "--repository", base, "-f", "json", "--timeout", "3"]
        )
        elapsed = time.monotonic() - started
    doc = json.loads(res.stdout)
    assert (doc["verdict"], doc["failed_step"], res.exit_code) == ("network-unreachable", "tls", 1)
    assert "handshake" in steps(doc)["tls"]["detail"]
    assert elapsed < 60  # bounded by the 3 s budget, with a wide margin for a loaded machine


def test_https_healthy_reports_tls_and_the_legacy_finding(trust: Certs) -> None:
    with gallery("healthy", tls=server_context(trust.good)) as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
        legacy_code, legacy = probe(MODULE, "--repository", g.base, "--legacy-client")
    assert (doc["verdict"], code) == ("ok", 0)
    tls = steps(doc)["tls"]
    assert tls["data"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert "psgdiag test CA" in tls["detail"]
    assert steps(doc)["tls-legacy"]["finding"] == "tls12-required"
    assert doc["findings"] == ["tls12-required"]
    assert "finding: tls12-required" in out
    assert (legacy["verdict"], legacy_code) == ("tls12-required", 1)


@pytest.mark.parametrize(("which", "words"), [("expired", "expired"), ("selfsigned", "self")])
def test_bad_certificates_are_certificate_invalid(trust: Certs, which: str, words: str) -> None:
    with gallery("healthy", tls=server_context(getattr(trust, which))) as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
    assert (doc["verdict"], doc["failed_step"], code) == ("gallery-certificate-invalid", "tls", 3)
    tls = steps(doc)["tls"]
    assert words in tls["detail"]
    assert tls["data"]["subject"] == "127.0.0.1" and tls["data"]["not_after"]
    if which == "expired":
        assert "days ago" in tls["detail"]
    assert "verdict: gallery-certificate-invalid" in out


def test_cdn_with_an_expired_certificate_fails_the_download(trust: Certs) -> None:
    """The repository is fine; the CDN it redirects to is not (the 2025 onegetcdn pattern)."""
    good, old = server_context(trust.good), server_context(trust.expired)
    with gallery("healthy", tls=good, cdn_tls=old) as g:
        code, doc = probe(MODULE, "--repository", g.base)
    assert steps(doc)["tls"]["status"] == "pass"  # the repository's own certificate
    assert (doc["verdict"], doc["failed_step"], code) == (
        "gallery-certificate-invalid",
        "download",
        3,
    )
    assert "certificate has expired" in steps(doc)["download"]["detail"]


def test_tls10_only_server_is_seen_by_the_legacy_step(trust: Certs) -> None:
    with gallery("healthy", tls=server_context(trust.good, tls10_only=True)) as g:
        code, doc = probe(MODULE, "--repository", g.base)
        _, out = rich(MODULE, "--repository", g.base)
    by = steps(doc)
    assert (doc["verdict"], doc["failed_step"], code) == ("gallery-service-error", "tls", 3)
    assert "TLS 1.2" in by["tls"]["detail"]
    assert by["tls-legacy"]["status"] == "pass" and "TLSv1" in by["tls-legacy"]["detail"]
    assert "still accepts TLSv1" in out


def test_bootstrap_endpoint_chain(healthy: Any) -> None:
    root = healthy.base.removesuffix("/api/v2")
    code, doc = probe(
        MODULE,
        "--repository",
        healthy.base,
        "--bootstrap",
        "--bootstrap-url",
        root + "/bootstrap/fwlink",
    )
    assert (doc["verdict"], code) == ("ok", 0)
    detail = steps(doc)["bootstrap"]["detail"]
    assert "provider list with 2 links" in detail
    assert "nuget-2.8.5.208.package.swidtag" in detail and detail.endswith(": 200")


@pytest.mark.parametrize(
    "args",
    [
        ["--repository", "ftp://example.org/feed"],
        ["--timeout", "0"],
        ["-f", "yaml"],
        ["bad name!"],
        ["--proxy", "not a url"],
        ["--repository", "https://api.nuget.org/v3/index.json"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str]) -> None:
    res = runner.invoke(app, ["probe", *args])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert res.stdout == ""


def test_explain_probe_fine_now_and_still_corrupt(tmp_path: Path) -> None:
    for mode, expect in (("healthy", "fine now"), ("truncated", "still failing now")):
        with gallery(mode) as g:
            g.packages[SEED_PACKAGE] = make_package(*SEED_PACKAGE)
            log = tmp_path / f"{mode}.log"
            text = SEED_LOG.read_text(encoding="utf-8")
            log.write_text(text.replace("https://www.powershellgallery.com/api/v2", g.base))
            cmd = [sys.executable, "-m", "psgdiag", "explain", "--probe", str(log)]
            as_json = subprocess.run(
                [*cmd, "-f", "json"], capture_output=True, text=True, timeout=120, env=_clean_env()
            )
            as_rich = subprocess.run(
                cmd, capture_output=True, text=True, timeout=120, env=_clean_env()
            )
        doc = json.loads(as_json.stdout)
        jsonschema.validate(doc["probe"], SCHEMA)
        top = doc["diagnoses"][0]
        assert doc["probe"]["repository"] == g.base
        assert (doc["probe"]["module"], doc["probe"]["version"]) == SEED_PACKAGE
        assert doc["probe"]["note"].startswith(expect)
        assert f"probe now: {expect}" in top["notes"][-1]
        assert f"probe now: {expect}" in as_rich.stdout
        if mode == "truncated":
            assert doc["probe"]["verdict"] == "corrupt-package-download"
            assert top["fault"] == "package" and top["transient"] is False
            assert (doc["verdict"], as_json.returncode) == ("fix", 1)  # pin another version
        else:
            assert doc["probe"]["verdict"] == "ok"
            assert (doc["verdict"], as_json.returncode) == ("retry", 3)  # it was passing


def test_feed_parsing_and_version_choice() -> None:
    with pytest.raises(ValueError, match="not XML"):
        parse_feed(b"<html><body>Sign in to the proxy")
    with pytest.raises(ValueError, match="not an Atom feed"):
        parse_feed(b"<html/>")
    with gallery("healthy") as g:
        entries, nxt = parse_feed(g.feed(MODULE))
    assert nxt is None and [e.version for e in entries] == ["1.0.0", "1.2.0"]
    assert pick(entries, None) == entries[1]
    assert pick(entries, "1.0") == entries[0]
    assert pick(entries, "2.0") is None


def test_deadline_runs_out() -> None:
    deadline = Deadline(0.0)
    with pytest.raises(ProbeTimeout, match="--timeout"):
        deadline.check()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in PROXY_VARS}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_fold_finds_the_repository_behind_request_urls(tmp_path: Path) -> None:
    from psgdiag.cli.explain import diagnose_inputs
    from psgdiag.probe.fold import options_for, repository_from

    log = tmp_path / "x.log"
    text = SEED_LOG.read_text(encoding="utf-8")
    log.write_text(
        text.replace("https://www.powershellgallery.com/api/v2", "https://feed.example/nuget/v2")
    )
    report = diagnose_inputs([str(log)], at=None, sig_dirs=[])[0]
    assert repository_from(report) == "https://feed.example/nuget/v2"
    opts = options_for(report, timeout=5)
    assert (opts.module, opts.version, opts.bootstrap) == (*SEED_PACKAGE, False)


def test_explain_without_probe_does_not_import_httpx() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from psgdiag.cli import app\n"
        f"r = CliRunner().invoke(app, ['explain', '-f', 'json', {str(SEED_LOG)!r}])\n"
        "assert r.stdout.startswith('{'), r.stdout\n"
        "print(sorted(m for m in sys.modules if m.startswith(('httpx', 'psgdiag.probe'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_clean_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_certificate_fields_read_from_der(certs: Certs) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from psgdiag.probe.cert import from_der

    for pem in (certs.ca, certs.expired[0], certs.selfsigned[0]):
        cert = x509.load_pem_x509_certificate(pem.read_bytes())
        info = from_der(cert.public_bytes(Encoding.DER))
        assert info is not None
        assert info.not_after == cert.not_valid_after_utc.replace(microsecond=0)
        assert info.subject == cert.subject.rfc4514_string().removeprefix("CN=")
    assert from_der(b"\x30\x03\x02\x01") is None


def test_fold_confirms_a_finding_the_log_shows(trust: Certs, tmp_path: Path) -> None:
    """An old client's log (TLS 1.0 only): healthy from here, but the refusal is confirmed."""
    from psgdiag.cli.explain import diagnose_inputs
    from psgdiag.probe.fold import fold_probe

    case = ROOT / "tests" / "cases" / "tls12-required" / "01-ws2016-securityprotocol.log"
    with gallery("healthy", tls=server_context(trust.good)) as g:
        g.packages[("SqlServer", "22.0.0")] = g.packages[(MODULE, "1.2.0")]
        log = tmp_path / "old-client.log"
        text = case.read_text(encoding="utf-8")
        log.write_text(text.replace("https://www.powershellgallery.com/api/v2", g.base))
        report = diagnose_inputs([str(log)], at=None, sig_dirs=[])[0]
        assert report.diagnoses[0].signature.id == "tls12-required"
        folded = fold_probe(report, timeout=20)
    assert folded.probe is not None and folded.probe.verdict == "ok"
    assert (
        folded.probe.document["module"] == "SqlServer"
        and folded.probe.document["repository"] == g.base
    )
    note = folded.probe.note
    assert note.startswith("still failing now for a client like the one in the log")
    assert "tls-legacy" in note and "refuses TLS 1.0 and 1.1" in note


def test_download_memory_stays_bounded() -> None:
    """A 40 MB package is streamed to disk and checked in blocks: the peak stays far below it."""
    import io
    import tracemalloc
    import zipfile

    import httpx  # noqa: F401 - imported up front so that its own import is not counted

    from psgdiag.probe.model import ProbeOptions
    from psgdiag.probe.run import run_probe

    size = 40 * 1024 * 1024
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(
            f"{MODULE}.nuspec", f"<package><metadata><id>{MODULE}</id></metadata></package>"
        )
        zf.writestr("big.bin", os.urandom(size))
    with gallery("healthy") as g:
        big = g.packages[(MODULE, "9.0.0")] = buf.getvalue()
        del buf
        opts = ProbeOptions(module=MODULE, version="9.0.0", repository=g.base, timeout=120)
        tracemalloc.start()
        try:
            result = run_probe(opts)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.verdict == "ok"
    download = next(s for s in result.steps if s.name == "download")
    assert download.data["received"] == len(big) > size
    assert peak < size * 0.4


@pytest.mark.online
@pytest.mark.skipif(not os.environ.get("PSGDIAG_ONLINE"), reason="set PSGDIAG_ONLINE=1 to run")
def test_the_real_gallery_is_healthy_and_refuses_tls10() -> None:
    """Against www.powershellgallery.com itself (opt-in): what the docs say the probe shows."""
    code, doc = probe()
    assert (doc["verdict"], code) == ("ok", 0), doc["summary"]
    assert doc["findings"] == ["tls12-required"]  # refused since April 2020
    assert doc["cdn_host"]  # downloads are served from the CDN
