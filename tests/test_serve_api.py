"""`psgdiag serve` over real HTTP: documents, schemas, OpenAPI, limits, token, redaction, errors."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped,unused-ignore]
import pytest

from psgdiag import api
from psgdiag.pipeline.when import parse_at
from psgdiag.render import Options
from psgdiag.render.json_ import render
from tests.conftest import CASES, DATA, ROOT, load_sidecar
from tests.serve_server import RunningServer, serve

SEED = DATA / "seed-2016-07.log"
TOKEN = "serve-test-token-0123456789abcdef"
SECRET_KEY = "oy2" + "a1b2c3d4e5" * 4 + "f6g"  # the shape of a PowerShell Gallery API key
LEAKY_LOG = SEED.read_text(encoding="utf-8").replace(  # secrets inside an evidence line
    "could not be found.", f"could not be found. Key {SECRET_KEY}, jdoe@example.com."
)


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "psgdiag" / "schemas" / name).read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve("--jobs", "2") as running:
        yield running


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningServer]:
    with serve(
        "--jobs", "1", "--allow-unredacted", "--max-bytes", "256KB",
        env={"PSGDIAG_SERVE_TOKEN": TOKEN},
    ) as running:  # fmt: skip
        yield running


@pytest.fixture(scope="module")
def openapi(server: RunningServer) -> dict[str, Any]:
    from openapi_spec_validator import validate

    doc: dict[str, Any] = httpx.get(server.url + "openapi.json").json()
    validate(doc)  # raises when the document is not valid OpenAPI 3.1
    return doc


@functools.cache
def _validator(schema_json: str) -> Any:
    """A validator built once per schema (jsonschema.validate re-checks the schema each call)."""
    schema = json.loads(schema_json)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_openapi(doc: dict[str, Any], path: str, method: str, resp: httpx.Response) -> None:
    """The response matches what the OpenAPI document says of this route and status."""
    spec = doc["paths"][path][method]["responses"][str(resp.status_code)]
    if "$ref" in spec:
        spec = doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[-1]]
    assert resp.headers["content-type"].startswith("application/json")
    schema = spec["content"]["application/json"]["schema"]
    # The document's components sit beside the schema, so "#/components/..." resolves.
    _validator(json.dumps({**schema, "components": doc["components"]})).validate(resp.json())


def _cases() -> list[Path]:
    return sorted(CASES.glob("*/*.log"))


def test_every_sample_case_over_http(server: RunningServer, openapi: dict[str, Any]) -> None:
    validator = _validator(json.dumps(_schema("explain.schema.json")))

    def check(client: httpx.Client, log: Path) -> str:
        meta = load_sidecar(log)
        params = {"at": str(meta["at"])} if meta.get("at") else {}
        resp = client.post("v1/explain", content=log.read_bytes(), params=params)
        assert resp.status_code == 200, (log, resp.text)
        validator.validate(resp.json())
        check_openapi(openapi, "/v1/explain", "post", resp)
        expect = list(meta.get("expect") or [log.parent.name])  # type: ignore[call-overload]
        causes = [d["cause"] for d in resp.json()["diagnoses"]] or ["none"]
        return "" if causes[0] in expect else f"{log}: {causes[:2]} not in {expect}"

    # Two connections for the server's two diagnosis processes.
    with httpx.Client(base_url=server.url, timeout=60) as client, ThreadPoolExecutor(2) as pool:
        wrong = [w for w in pool.map(lambda log: check(client, log), _cases()) if w]
    assert not wrong, "\n".join(wrong)


def test_explain_document_is_the_cli_json(server: RunningServer) -> None:
    report = api.diagnose_bytes(SEED.read_bytes(), at=parse_at("2016-07-12"), source="<request>")
    out = io.StringIO()
    render([report], out, Options(redact=True))
    want = json.loads(out.getvalue())
    as_json = httpx.post(
        server.url + "v1/explain", json={"text": SEED.read_text("utf-8"), "at": "2016-07-12"}
    )
    as_text = httpx.post(
        server.url + "v1/explain",
        content=SEED.read_bytes(),
        params={"at": "2016-07-12"},
        headers={"content-type": "text/plain; charset=utf-8"},
    )
    assert as_json.json() == want
    assert as_text.json() == want
    assert want["diagnoses"][0]["incident"]["id"] == "INC-2016-07-11-cdn"
    named = httpx.post(server.url + "v1/explain", json={"text": "x y", "source": "TICKET-7"})
    assert named.json()["source"] == "TICKET-7"


def _three_ticket_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for cause in ("tls12-required", "module-not-found"):
            first = sorted((CASES / cause).glob("*.log"))[0]
            zf.writestr(f"{cause}.log", first.read_bytes())
        zf.writestr("seed.log", SEED.read_bytes())
    return buf.getvalue()


def test_triage_reads_zip_eml_and_plain_files(
    server: RunningServer, openapi: dict[str, Any]
) -> None:
    mail = EmailMessage()
    mail["Subject"] = "Install-Module fails"
    mail["Date"] = "Tue, 12 Jul 2016 10:00:00 +0000"
    mail.set_content(SEED.read_text("utf-8"))
    files = [
        ("files", ("tickets.zip", _three_ticket_zip(), "application/zip")),
        ("files", ("mail.eml", mail.as_bytes(), "message/rfc822")),
        ("files", ("plain.log", SEED.read_bytes(), "text/plain")),
    ]
    resp = httpx.post(server.url + "v1/triage", files=files, timeout=60)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    jsonschema.validate(doc, _schema("triage.schema.json"))
    check_openapi(openapi, "/v1/triage", "post", resp)
    rows = {item["path"]: item["cause"] for item in doc["items"]}
    assert rows == {
        "tickets.zip!module-not-found.log": "module-not-found",
        "tickets.zip!seed.log": "corrupt-package-download",
        "tickets.zip!tls12-required.log": "tls12-required",
        "mail.eml": "corrupt-package-download",
        "plain.log": "corrupt-package-download",
    }
    assert doc["summary"]["tickets"] == 5


def test_signatures_and_incidents(server: RunningServer, openapi: dict[str, Any]) -> None:
    sigs = httpx.get(server.url + "v1/signatures")
    check_openapi(openapi, "/v1/signatures", "get", sigs)
    ids = {s["id"] for s in sigs.json()["signatures"]}
    assert "corrupt-package-download" in ids
    assert all("/" not in s["source"] for s in sigs.json()["signatures"])
    every = httpx.get(server.url + "v1/incidents")
    check_openapi(openapi, "/v1/incidents", "get", every)
    jsonschema.validate(every.json(), _schema("incidents.schema.json"))
    at = httpx.get(
        server.url + "v1/incidents",
        params={"at": "2016-07-12", "cause": "corrupt-package-download"},
    )
    assert [i["id"] for i in at.json()] == ["INC-2016-07-11-cdn"]
    bad = httpx.get(server.url + "v1/incidents", params={"at": "last tuesday"})
    assert bad.status_code == 400
    check_openapi(openapi, "/v1/incidents", "get", bad)


def test_health_and_openapi(server: RunningServer) -> None:
    health = httpx.get(server.url + "healthz").json()
    assert health["status"] == "ok" and health["diagnosis_processes"] == 2
    assert health["kb_version"] == api.load_kb().version


MALFORMED: list[tuple[str, str, dict[str, Any], int]] = [
    (
        "post",
        "/v1/explain",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        400,
    ),
    ("post", "/v1/explain", {"json": ["a", "list"]}, 400),
    ("post", "/v1/explain", {"json": {"text": 42}}, 400),
    ("post", "/v1/explain", {"json": {"text": "x", "colour": "red"}}, 400),
    ("post", "/v1/explain", {"json": {"text": "x", "source": 5}}, 400),
    ("post", "/v1/explain", {"json": {"text": "x", "at": "yesterday"}}, 400),
    ("post", "/v1/explain", {"json": {"text": "x", "at": 20160712}}, 400),
    ("post", "/v1/explain", {"json": {"text": "x", "redact": "maybe"}}, 400),
    ("post", "/v1/explain", {"content": b"   \n"}, 400),
    (
        "post",
        "/v1/explain",
        {"content": b"\xff\xfe\x00garbage", "params": {"at": "2016-13-45"}},
        400,
    ),
    (
        "post",
        "/v1/explain",
        {"content": b"<x/>", "headers": {"content-type": "application/xml"}},
        415,
    ),
    ("post", "/v1/explain", {"content": b"PK\x03\x04" + bytes(range(256)) * 4}, 415),  # a zip
    ("post", "/v1/explain", {"content": bytes(range(256)) * 12}, 415),  # binary, as `explain`
    ("post", "/v1/triage", {"content": b"a log", "headers": {"content-type": "text/plain"}}, 415),
    (
        "post",
        "/v1/triage",
        {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
        400,
    ),
    (
        "post",
        "/v1/triage",
        {
            "content": b'--b\r\nContent-Disposition: form-data; name="at"\r\n\r\n2016\r\n--b--\r\n',
            "headers": {"content-type": "multipart/form-data; boundary=b"},
        },
        400,
    ),
    ("get", "/v1/explain", {}, 405),
    ("get", "/v1/nothing-here", {}, 404),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), MALFORMED)
def test_malformed_requests_get_json_errors(
    server: RunningServer,
    openapi: dict[str, Any],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    resp = httpx.request(method, server.url + path.lstrip("/"), **kwargs)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "hint"} and body["error"] and isinstance(body["hint"], str)
    assert "Traceback" not in resp.text
    if path in openapi["paths"] and method in openapi["paths"][path]:
        check_openapi(openapi, path, method, resp)


def test_size_limit_gives_413(guarded: RunningServer) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    declared = httpx.post(guarded.url + "v1/explain", content=b"x" * 300_000, headers=auth)
    assert declared.status_code == 413 and "larger" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is met while streaming
        for _ in range(40):
            yield b"y" * 10_000

    streamed = httpx.post(guarded.url + "v1/explain", content=chunks(), headers=auth)
    assert streamed.status_code == 413
    page = httpx.post(guarded.url, content=b"z" * 300_000, headers={"content-type": "text/plain"})
    assert page.status_code == 413 and "<!DOCTYPE html>" in page.text
    fits = httpx.post(guarded.url + "v1/explain", content=SEED.read_bytes(), headers=auth)
    assert fits.status_code == 200


def test_token_is_required_when_set(guarded: RunningServer, openapi: dict[str, Any]) -> None:
    url = guarded.url + "v1/explain"
    missing = httpx.post(url, content=SEED.read_bytes())
    wrong = httpx.post(url, content=SEED.read_bytes(), headers={"authorization": "Bearer nope"})
    right = httpx.post(url, content=SEED.read_bytes(), headers={"authorization": f"Bearer {TOKEN}"})
    for resp in (missing, wrong):
        assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
        check_openapi(openapi, "/v1/explain", "post", resp)
    assert right.status_code == 200
    assert httpx.get(guarded.url + "v1/signatures").status_code == 401
    assert httpx.get(guarded.url + "healthz").status_code == 200
    assert httpx.get(guarded.url + "openapi.json").status_code == 200
    page = httpx.get(guarded.url).text
    assert 'name="token"' in page
    refused = httpx.post(guarded.url, data={"text": SEED.read_text("utf-8")})
    assert refused.status_code == 401 and "access token" in refused.text
    allowed = httpx.post(guarded.url, data={"text": SEED.read_text("utf-8"), "token": TOKEN})
    assert allowed.status_code == 200 and 'data-cause="corrupt-package-download"' in allowed.text


def test_answers_are_redacted_unless_allowed(server: RunningServer, guarded: RunningServer) -> None:
    masked = httpx.post(server.url + "v1/explain", content=LEAKY_LOG.encode())
    assert masked.status_code == 200
    assert SECRET_KEY not in masked.text and "jdoe" not in masked.text
    refused = httpx.post(server.url + "v1/explain", json={"text": LEAKY_LOG, "redact": False})
    assert refused.status_code == 403 and "--allow-unredacted" in refused.json()["hint"]
    page = httpx.post(server.url, files={"text": (None, LEAKY_LOG)})
    assert page.status_code == 200 and SECRET_KEY not in page.text and "jdoe" not in page.text
    auth = {"authorization": f"Bearer {TOKEN}"}
    default = httpx.post(guarded.url + "v1/explain", json={"text": LEAKY_LOG}, headers=auth)
    plain = httpx.post(
        guarded.url + "v1/explain", json={"text": LEAKY_LOG, "redact": False}, headers=auth
    )
    assert SECRET_KEY not in default.text
    assert SECRET_KEY in plain.text


def test_html_escapes_the_input(server: RunningServer) -> None:
    hostile = SEED.read_text("utf-8") + '<script>alert(1)</script><img src=x onerror="alert(2)">\n'
    hostile = hostile.replace("xStorage", "x<b>Storage</b>")
    page = httpx.post(server.url, files={"text": (None, hostile)})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<b>Storage" not in page.text
    assert "x&lt;b&gt;Storage&lt;/b&gt;" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"


def test_nothing_sent_is_logged(server: RunningServer) -> None:
    marker = "UniqueMarker7f3a91"
    httpx.post(server.url + "v1/explain", content=(SEED.read_text("utf-8") + marker).encode())
    httpx.post(server.url, files={"text": (None, marker)})
    httpx.post(server.url + "v1/explain", params={"at": marker}, content=b"x")
    assert "POST /v1/explain 200" in server.stderr
    assert marker not in server.stderr


def test_time_limit_stops_the_diagnosis_and_recovers() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in range(400):
            zf.writestr(f"t{n:03}.log", SEED.read_bytes())
    with serve("--jobs", "1", "--time-limit", "0.2") as running:
        slow = httpx.post(
            running.url + "v1/triage", files={"files": ("q.zip", buf.getvalue())}, timeout=60
        )
        assert slow.status_code == 503, slow.text
        assert "longer than 0.2 s" in slow.json()["error"]
        running.wait_healthy()  # the killed process was replaced
        again = httpx.post(running.url + "v1/explain", content=SEED.read_bytes())
        assert again.status_code == 200


def test_in_process_mode_and_several_workers() -> None:
    with serve("--jobs", "0") as inline:
        health = httpx.get(inline.url + "healthz").json()
        assert health["diagnosis_processes"] == 0
        resp = httpx.post(inline.url + "v1/explain", content=SEED.read_bytes())
        assert resp.json()["diagnoses"][0]["cause"] == "corrupt-package-download"
    with serve("--jobs", "1", "--workers", "2") as workers:
        for _ in range(4):
            resp = httpx.post(workers.url + "v1/explain", content=SEED.read_bytes())
            assert resp.status_code == 200


def test_sigterm_stops_the_server_with_exit_0() -> None:
    with serve("--jobs", "1") as running:
        process = running.process
    assert process.returncode == 0, running.stderr
