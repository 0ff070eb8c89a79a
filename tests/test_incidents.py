"""The bundled incident history, correlation, and the incidents / explain --at commands."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from psgdiag.cli import app
from psgdiag.errors import KbError
from psgdiag.incidents import history as inc_mod
from psgdiag.model import Incident, TimeRange
from psgdiag.pipeline.ingest import RawText
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.when import find_time, parse_at
from tests.conftest import DATA, ROOT

runner = CliRunner()
UTC = dt.UTC
TAXONOMY = DATA / "taxonomy.md"
SIGNATURES = ROOT / "signatures"

# reference/incidents.md §2, in its order
IDS = [
    "INC-2016-05-17-cdn",
    "INC-2016-07-11-cdn",
    "INC-2016-08-05-mail",
    "INC-2016-12-13-smtp",
    "INC-2017-03-27-pages",
    "INC-2017-04-11-aad",
    "INC-2017-06-01-automation",
    "INC-2017-10-10-latency",
    "CHG-2018-09-12-newgallery",
    "INC-2018-10-16-cdn-eocd",
    "INC-2018-12-30-404",
    "INC-2019-01-13-livefyre",
    "INC-2019-06-11-outage",
    "CHG-2020-04-tls12",
    "REL-2020-06-15-nugetorg-tls",
    "INC-2020-10-07-lowavail",
    "NOT-2020-10-19-dbmaint",
    "INC-2020-10-30-outage",
    "INC-2021-03-23-cert",
    "INC-2021-06-03-cert",
    "INC-2021-07-06-cdn",
    "INC-2021-08-17-aad",
    "NOT-2021-09-27-armmigration",
    "INC-2021-11-12-wrongcert",
    "INC-2022-04-25-latency",
    "INC-2022-06-14-signin",
    "INC-2022-06-14-down",
    "USR-2022-09-01-cert",
    "USR-2023-09-22-down",
    "CHG-2024-01-afd",
    "INC-2024-01-05-stats",
    "INC-2024-03-04-login",
    "INC-2024-04-04-sql",
    "INC-2024-05-13-stats",
    "INC-2024-05-20-slow",
    "INC-2024-07-11-statsinfra",
    "USR-2024-07-30-azure",
    "INC-2024-08-16-login",
    "CHG-2025-01-13-edgio",
    "NOT-2025-01-28-maint",
    "INC-2025-02-12-mail",
    "INC-2025-03-14-login",
    "INC-2025-04-25-slow",
    "INC-2025-06-11-onegetcdn",
    "INC-2025-09-09-swidtag",
    "INC-2025-10-29-afd",
    "INC-2025-11-12-search",
    "INC-2026-01-26-azcr500",
    "INC-2026-02-02-cdn",
]


def by_id(inc_id: str) -> Incident:
    return next(i for i in inc_mod.bundled() if i.id == inc_id)


def cause_ids() -> set[str]:
    ids = {p.stem for p in SIGNATURES.glob("*.toml")}
    ids |= set(re.findall(r"^\| ([a-z0-9-]+) \|", TAXONOMY.read_text("utf-8"), re.M))
    return ids


# ------------------------------------------------------------------ the data


def test_all_49_records_with_their_ids_exactly() -> None:
    assert len(IDS) == 49
    assert [i.id for i in inc_mod.bundled()] == IDS


def test_every_cause_is_a_known_cause_id() -> None:
    known = cause_ids()
    for inc in inc_mod.bundled():
        assert set(inc.causes) <= known, inc.id


def test_records_are_complete_and_consistent() -> None:
    for inc in inc_mod.bundled():
        assert inc.impact in ("Y", "P", "N"), inc.id
        assert inc.summary and inc.sources and inc.certainty, inc.id
        assert inc.window_end > inc.start, inc.id
        if inc.impact in ("Y", "P"):
            assert inc.causes, f"{inc.id} has install impact but no cause"


def test_install_impact_counts_match_the_research_notes() -> None:
    assert sum(i.impact in ("Y", "P") for i in inc_mod.bundled()) == 34


def test_unknown_ends_are_assumed_with_a_reason_or_permanent() -> None:
    reasons = inc_mod.end_reasons()
    for inc in inc_mod.bundled():
        if inc.end is None:
            assert inc.permanent or (inc.end_assumed and reasons.get(inc.id)), inc.id
    permanent = {i.id for i in inc_mod.bundled() if i.permanent}
    assert permanent == {"CHG-2020-04-tls12", "REL-2020-06-15-nugetorg-tls", "CHG-2024-01-afd"}


def test_date_only_2016_windows_run_to_the_end_of_the_pacific_day() -> None:
    inc = by_id("INC-2016-07-11-cdn")
    assert inc.start == dt.datetime(2016, 7, 11, tzinfo=UTC)
    assert inc.window_end.date() == dt.date(2016, 7, 14) and inc.window_end.hour == 7


def test_a_date_only_end_covers_that_whole_utc_day() -> None:
    assert by_id("INC-2026-01-26-azcr500").window_end == dt.datetime(
        2026, 2, 6, 23, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('id="X"\ntitle="t"\nstart=2020-01-01\nkind="incident"\nimpact="Q"', "impact"),
        ('id="X"\ntitle="t"\nstart=2020-01-01\nkind="incident"\nimpact="Y"\ncuases=[]', "cuases"),
        (
            'id="X"\ntitle="t"\nstart=2020-01-02\nend=2020-01-01\nkind="i"\nimpact="Y"',
            "ends before",
        ),
        ('id="X"\ntitle="t"\nkind="incident"\nimpact="Y"', "start"),
        ('id="X"\ntitle="t"\nstart="yesterday"\nkind="incident"\nimpact="Y"', "start"),
    ],
)
def test_invalid_incident_tables_are_reported_with_where(body: str, problem: str) -> None:
    with pytest.raises(KbError) as err:
        inc_mod.parse_incidents_toml("[[incident]]\n" + body + "\n", "x.toml")
    assert any(problem in p and "x.toml" in p for p in err.value.problems)


def test_a_damaged_cache_never_hides_the_bundled_history(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PSGDIAG_DATA_DIR", str(tmp_path))
    (tmp_path / "incidents-synced.toml").write_bytes(b"\x00garbage [[incident")
    assert sorted(i.id for i in inc_mod.load_all()) == sorted(IDS)


# ------------------------------------------------------------------ correlation


def when(text: str) -> TimeRange:
    found = find_time(normalize(RawText(text=text, encoding="text", source="t")))
    assert found is not None
    return found


def test_a_failure_inside_a_window_with_a_fitting_cause_correlates() -> None:
    inc = inc_mod.correlate(inc_mod.bundled(), "corrupt-package-download", parse_at("2016-07-12"))
    assert inc is not None and inc.id == "INC-2016-07-11-cdn"


def test_the_same_symptom_outside_every_window_is_not_blamed_on_the_gallery() -> None:
    assert (
        inc_mod.correlate(inc_mod.bundled(), "corrupt-package-download", parse_at("2019-03-01"))
        is None
    )


def test_a_cause_the_incident_does_not_explain_is_not_correlated() -> None:
    assert inc_mod.correlate(inc_mod.bundled(), "command-clobber", parse_at("2016-07-12")) is None


def test_permanent_changes_never_correlate() -> None:
    assert inc_mod.correlate(inc_mod.bundled(), "tls12-required", parse_at("2020-05-14")) is None


def test_psresourceget_500_after_the_window_closed_gets_no_incident() -> None:
    ci = "2026-02-13T10:23:19.5530471Z Install-PSResource: 'Response status code ... 500'\n"
    assert inc_mod.correlate(inc_mod.bundled(), "gallery-service-error", when(ci)) is None
    inside = ci.replace("2026-02-13", "2026-02-03")
    got = inc_mod.correlate(inc_mod.bundled(), "gallery-service-error", when(inside))
    assert got is not None and got.id == "INC-2026-01-26-azcr500"


def test_transcript_local_time_reaches_an_incident_that_starts_that_utc_day() -> None:
    text = "Start time: 20250611143012\nWARNING: Unable to download from URI 'x' to ''.\n"
    got = inc_mod.correlate(inc_mod.bundled(), "nuget-provider-missing", when(text))
    assert got is not None and got.id == "INC-2025-06-11-onegetcdn"


def test_an_unresolved_mail_outage_still_explains_a_ticket_a_week_later() -> None:
    got = inc_mod.correlate(
        inc_mod.bundled(), "gallery-email-not-delivered", when("On 18 February 2025 we wrote.\n")
    )
    assert got is not None and got.id == "INC-2025-02-12-mail"


def test_an_outage_of_hours_does_not_cover_the_evening_before() -> None:
    ci = "2022-06-14T12:00:00Z ##[error]Unable to resolve package source\n"
    assert inc_mod.correlate(inc_mod.bundled(), "gallery-service-error", when(ci)) is None


def test_possible_lists_windows_that_fit_the_cause_but_no_permanent_change() -> None:
    ids = [i.id for i in inc_mod.possible(inc_mod.bundled(), "tls12-required")]
    assert ids == []
    ids = [i.id for i in inc_mod.possible(inc_mod.bundled(), "gallery-email-not-delivered")]
    assert ids == ["INC-2016-08-05-mail", "INC-2016-12-13-smtp", "INC-2025-02-12-mail"]


# ------------------------------------------------------------------ CLI: incidents


def test_incidents_list_at_a_time_as_json() -> None:
    res = runner.invoke(app, ["incidents", "list", "--at", "2022-06-14T19:00:00Z", "-f", "json"])
    assert res.exit_code == 0
    rows = {r["id"]: r for r in json.loads(res.stdout)}
    # the outage, plus the lasting service changes in effect at that time
    assert set(rows) == {"INC-2022-06-14-down", "CHG-2020-04-tls12", "REL-2020-06-15-nugetorg-tls"}
    down = rows["INC-2022-06-14-down"]
    assert down["start"] == "2022-06-14T17:52:00Z" and down["origin"] == "bundled"
    assert rows["CHG-2020-04-tls12"]["permanent"] is True


def test_incidents_list_by_cause_in_rich_keeps_ids_whole() -> None:
    res = runner.invoke(app, ["incidents", "list", "--cause", "gallery-email-not-delivered"])
    assert res.exit_code == 0
    for inc_id in ("INC-2016-08-05-mail", "INC-2016-12-13-smtp", "INC-2025-02-12-mail"):
        assert inc_id in res.stdout


def test_incidents_show_prints_window_what_happened_and_what_to_do() -> None:
    res = runner.invoke(app, ["incidents", "show", "INC-2025-02-12-mail"])
    assert res.exit_code == 0
    out = res.stdout
    assert "2025-02-12 .. 2025-03-14" in out and "end assumed" in out
    assert "Never marked resolved" in out and "what to do:" in out and "psgadmin" in out


def test_incidents_show_unknown_id_suggests_close_ones() -> None:
    res = runner.invoke(app, ["incidents", "show", "INC-2016-7-11-cdn"])
    assert res.exit_code == 2
    assert "INC-2016-07-11-cdn" in res.stderr and "Traceback" not in res.stderr


def test_incidents_list_rejects_a_bad_date_cleanly() -> None:
    res = runner.invoke(app, ["incidents", "list", "--at", "soon"])
    assert res.exit_code == 2 and "hint:" in res.stderr


# ------------------------------------------------------------------ CLI: explain correlation


def explain(args: list[str], stdin: str | None = None) -> dict:  # type: ignore[type-arg]
    res = runner.invoke(app, ["explain", "-f", "json", *args], input=stdin)
    assert res.exit_code in (0, 1, 3), res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_explain_at_2016_07_12_names_the_july_cdn_incident() -> None:
    doc = explain(["--at", "2016-07-12", str(DATA / "seed-2016-07.log")])
    top = doc["diagnoses"][0]
    assert top["cause"] == "corrupt-package-download"
    assert top["incident"]["id"] == "INC-2016-07-11-cdn"
    assert top["fault"] == "service" and top["transient"] is True
    assert top["possible_incidents"] == []


def test_explain_at_2019_03_01_names_no_incident() -> None:
    doc = explain(["--at", "2019-03-01", str(DATA / "seed-2016-07.log")])
    top = doc["diagnoses"][0]
    assert top["cause"] == "corrupt-package-download" and top["incident"] is None
    assert top["fault"] != "service"


def test_explain_may_log_at_2016_05_18_names_the_may_cdn_incident() -> None:
    doc = explain(["--at", "2016-05-18", str(DATA / "seed-2016-05.log")])
    assert doc["diagnoses"][0]["incident"]["id"] == "INC-2016-05-17-cdn"


TICKET = """Hello PowerShell Gallery team,

I used the Contact Owners link on the page of a module on December 14, 2016 to ask the
owner about a licence question, and I got no reply at all. Did my message arrive?

Thanks, Dana
"""


def test_ticket_about_contact_owners_names_the_smtp_incident() -> None:
    doc = explain([], stdin=TICKET)
    top = doc["diagnoses"][0]
    assert top["cause"] == "gallery-email-not-delivered"
    assert top["incident"]["id"] == "INC-2016-12-13-smtp"
    assert doc["facts"]["time"]["origin"] == "prose"


def test_without_a_time_diagnoses_list_possible_incidents_with_windows() -> None:
    doc = explain([str(DATA / "seed-2016-07.log")])
    top = doc["diagnoses"][0]
    assert top["incident"] is None
    possible = {p["id"]: p for p in top["possible_incidents"]}
    # best fit with the era of the paste first; 2026 is outside it (tests/test_era.py)
    assert [p["id"] for p in top["possible_incidents"]][:2] == [
        "INC-2016-07-11-cdn",
        "INC-2016-05-17-cdn",
    ]
    assert "INC-2026-02-02-cdn" in top["not_offered"]
    assert possible["INC-2016-07-11-cdn"]["start"] == "2016-07-11T00:00:00Z"
    assert possible["INC-2016-07-11-cdn"]["end"].startswith("2016-07-14T07:59:59")


def test_the_user_docs_describe_every_incident_key() -> None:
    docs = (ROOT / "docs" / "incidents.md").read_text("utf-8")
    for key in inc_mod.KEYS:
        assert f"`{key}`" in docs, key


CORPUS = DATA / "corpus"


def test_labelled_corpus_cases_get_exactly_their_incident() -> None:
    from psgdiag.pipeline.ingest import decode

    checked = 0
    for meta_path in sorted(CORPUS.glob("*.json")):
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("expect") == ["none"]:
            continue
        log = meta_path.with_suffix(".log")
        doc = normalize(decode(log.read_bytes(), str(log)))
        got = inc_mod.correlate(inc_mod.bundled(), meta["expect"][0], find_time(doc))
        assert (got.id if got else None) == meta.get("incident"), log.name
        checked += 1
    assert checked >= 20


def test_incidents_json_outputs_follow_the_published_schema() -> None:
    from importlib import resources

    import jsonschema

    text = resources.files("psgdiag.schemas").joinpath("incidents.schema.json").read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    for args in (["list"], ["list", "--at", "2016-07-12"], ["show", "INC-2025-02-12-mail"]):
        res = runner.invoke(app, ["incidents", *args, "-f", "json"])
        jsonschema.validate(json.loads(res.stdout), schema)
    seed = str(DATA / "psgallery_status.md")
    res = runner.invoke(app, ["incidents", "import", seed, "-f", "json"])
    jsonschema.validate(json.loads(res.stdout), schema)


# ------------------------------------------------------------------ applies_if (data)


def test_search_index_incident_only_applies_to_tag_or_wildcard_searches() -> None:
    search = by_id("INC-2025-11-12-search")
    exact = ["Install-Module : No match was found for ... module name 'Pestre'."]
    assert inc_mod.applicable([search], exact) == ()
    for line in (
        "PS> Find-PSResource -Tag Azure",
        "PS> Find-Module -Name Az.*",
        "PS> Find-Module Az*",
    ):
        assert inc_mod.applicable([search], ["noise", line]) == (search,), line


def test_incidents_without_conditions_always_apply() -> None:
    assert inc_mod.applicable(inc_mod.bundled(), []) == tuple(
        i for i in inc_mod.bundled() if i.id not in inc_mod._conditions()
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("Install-PSResource -Name Az -Repository PSGallery", "INC-2026-01-26-azcr500"),
        ("Install-Module -Name Az -Repository PSGallery", None),
    ],
)
def test_the_psresourceget_500_incident_does_not_explain_install_module(
    command: str, expected: str | None
) -> None:
    log = (
        f"2026-01-29T10:00:00.0000000Z ##[command]{command}\n"
        "2026-01-29T10:00:40.0000000Z ##[error]Install failed: 'Response status code does not "
        "indicate success: 500 (Internal Server Error).'\n"
    )
    doc = explain([], stdin=log)
    top = doc["diagnoses"][0]
    assert top["cause"] == "gallery-service-error"
    assert (top["incident"] or {}).get("id") == expected


def test_bad_applies_if_pattern_is_reported() -> None:
    body = 'id="X"\ntitle="t"\nstart=2020-01-01\nkind="i"\nimpact="Y"\napplies_if=["(unclosed"]'
    with pytest.raises(KbError) as err:
        inc_mod.parse_incidents_toml("[[incident]]\n" + body + "\n", "x.toml")
    assert "applies_if" in err.value.problems[0]
