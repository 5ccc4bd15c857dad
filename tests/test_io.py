"""Import and export of practices (CSV, XLSX, JSON), on SQLite and PostgreSQL."""

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from dhu_core import db
from dhu_core import io as practice_io
from dhu_core.accounts import PermissionDenied, system_actor
from dhu_core.cli import main
from dhu_core.config import get_settings
from dhu_core.import_file import COLUMNS, ImportFileError, read_rows
from dhu_core.io import RowError, export_bytes, export_practices, import_practices
from dhu_core.models import (
    AuditEvent,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeTag,
    User,
)
from tests.xlsx_package import header_row, package, sheet


def practice_row(**changes: str) -> dict[str, str]:
    """A valid import row as a CSV file gives it (all text)."""
    row = {
        "title": "Heart failure telemonitoring",
        "summary": "Patients send weight and blood pressure daily; nurses act on alerts.",
        "practice_type": "service",
        "maturity": "4",
        "countries": "EE;LV",
        "owner_organisation": "Tartu University Hospital",
        "owner_country": "EE",
        "health_domains": "cardiovascular;telehealth",
        "dhi_codes": "1.4.1;2.2.1",
        "standards": "fhir;snomed-ct",
        "languages": "et;en",
        "website": "https://example.org/hf",
        "contact_email": "hf@example.org",
        "start_year": "2019",
        "transferable": "yes",
    }
    return row | changes


GOOD_ROWS = [
    practice_row(),
    practice_row(
        title="Diabetes coaching app",
        summary="A smartphone coach for people with type 2 diabetes, with nurse chat.",
        practice_type="app",
        maturity="2",
        countries="PT",
        owner_organisation="Porto Digital Health Lab",
        owner_country="PT",
        health_domains="diabetes",
        dhi_codes="1.1.2",
        standards="",
        languages="pt",
        website="",
        contact_email="",
        start_year="",
        transferable="",
    ),
    practice_row(
        title="=Risk score calculator",
        summary="Cardiovascular risk scores for general practitioners, in the record system.",
        practice_type="framework",
        maturity="5",
        countries="DE;AT;CH",
        owner_organisation="Tartu University Hospital",
        owner_country="EE",
        health_domains="cardiovascular;prevention",
        standards="",
        languages="de",
        transferable="no",
    ),
]


def csv_text(rows: list[dict], columns=COLUMNS, delimiter: str = ",") -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter)
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return buffer.getvalue()


CLI = system_actor("test")


def csv_file(tmp_path: Path, rows: list[dict], columns=COLUMNS, name: str = "practices.csv"):
    path = tmp_path / name
    path.write_text(csv_text(rows, columns), encoding="utf-8")
    return path


def import_csv(engine, tmp_path: Path, rows: list[dict], **kwargs):
    return import_practices(read_rows(csv_file(tmp_path, rows)), engine=engine, actor=CLI, **kwargs)


def stored(engine) -> list[dict]:
    """Every published practice as export rows, sorted, with lists as sets."""
    rows = [
        {k: set(v) if isinstance(v, list) else v for k, v in row.items()}
        for row in export_practices(engine=engine)
    ]
    return sorted(rows, key=lambda row: (row["title"], row["owner_organisation"]))


def count(engine, model) -> int:
    with db.session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def empty(engine) -> None:
    with db.session_scope(engine) as session:
        db.delete_all_rows(session)


# --- import ------------------------------------------------------------------------------


def test_good_file_imports_published_practices_with_organisations_countries_and_tags(
    engine, tmp_path
):
    with db.session_scope(engine) as session:
        session.add(Organisation(name="Porto Digital Health Lab", country="PT", city="Porto"))

    report = import_csv(engine, tmp_path, GOOD_ROWS)

    assert report.ok and report.errors == [] and report.imported == 3
    with db.session_scope(engine) as session:
        practices = session.exec(select(Practice).order_by(Practice.title)).scalars().all()
        assert [p.title for p in practices] == [
            "=Risk score calculator",
            "Diabetes coaching app",
            "Heart failure telemonitoring",
        ]
        assert {p.status for p in practices} == {"published"}
        assert all(p.published_at is not None for p in practices)
        heart = practices[2]
        assert (heart.practice_type, heart.maturity, heart.start_year) == ("service", 4, 2019)
        assert (heart.transferable, practices[1].transferable, practices[0].transferable) == (
            True,
            None,
            False,
        )
        assert heart.website == "https://example.org/hf"
        assert heart.contact_email == "hf@example.org"
        organisations = {
            (o.name, o.country): o for o in session.exec(select(Organisation)).scalars()
        }
        assert set(organisations) == {
            ("Porto Digital Health Lab", "PT"),
            ("Tartu University Hospital", "EE"),
        }
        tartu = organisations[("Tartu University Hospital", "EE")]
        assert tartu.organisation_type == "other"
        # The existing organisation is used, not a copy of it.
        assert organisations[("Porto Digital Health Lab", "PT")].city == "Porto"
        assert (
            practices[1].owner_organisation_id
            == organisations[("Porto Digital Health Lab", "PT")].id
        )
        assert heart.owner_organisation_id == practices[0].owner_organisation_id == tartu.id
        countries = set(
            session.exec(
                select(PracticeCountry.country).where(PracticeCountry.practice_id == heart.id)
            ).scalars()
        )
        assert countries == {"EE", "LV"}
        tags = set(
            session.exec(
                select(PracticeTag.kind, PracticeTag.code).where(
                    PracticeTag.practice_id == heart.id
                )
            ).all()
        )
        assert tags == {
            ("domain", "cardiovascular"),
            ("domain", "telehealth"),
            ("dhi", "1.4.1"),
            ("dhi", "2.2.1"),
            ("standard", "fhir"),
            ("standard", "snomed-ct"),
            ("language", "et"),
            ("language", "en"),
        }
        event = session.exec(select(AuditEvent)).scalars().one()
        assert event.action == "practice.imported"
        assert event.detail == {"imported": 3, "rejected": 0}


def test_bad_rows_are_reported_by_row_and_column_and_the_good_rows_stored(engine, tmp_path):
    rows = [
        practice_row(),  # row 2
        practice_row(title=""),  # row 3
        practice_row(title="Stroke rehabilitation at home", countries="EE;ZZ"),  # row 4
        practice_row(title="Asthma school programme", maturity="7"),  # row 5
        practice_row(
            title="HEART failure   telemonitoring", owner_organisation="tartu university HOSPITAL"
        ),  # row 6: a duplicate of row 2
        practice_row(title="Two problems", owner_country="Atlantis", start_year="1850"),  # 7
        practice_row(title="Dementia companion robot"),  # row 8
    ]

    report = import_csv(engine, tmp_path, rows)

    assert not report.ok
    assert report.imported == 2
    assert report.rejected == 5
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "title"),
        (4, "countries"),
        (5, "maturity"),
        (6, "title"),
        (7, "owner_country"),
        (7, "start_year"),
    ]
    messages = [e.message for e in report.errors]
    assert messages[0] == "required, but empty"
    assert "unknown country 'ZZ'" in messages[1]
    assert "'7'" in messages[2]
    assert messages[3] == "duplicate of row 2 (same title and owner organisation)"
    assert "unknown country 'Atlantis'" in messages[4]
    assert "between 1980 and" in messages[5]
    assert str(report.errors[0]) == "row 3, column title: required, but empty"
    assert [row["title"] for row in stored(engine)] == [
        "Dementia companion robot",
        "Heart failure telemonitoring",
    ]
    assert count(engine, Organisation) == 1


def test_a_practice_already_stored_is_a_duplicate(engine, tmp_path):
    assert import_csv(engine, tmp_path, GOOD_ROWS[:1]).imported == 1
    with db.session_scope(engine) as session:
        session.execute(update(Practice).values(status="draft"))

    again = practice_row(
        title=" heart FAILURE telemonitoring ", owner_organisation="TARTU UNIVERSITY HOSPITAL"
    )
    other_country = practice_row(owner_country="LV")
    report = import_csv(engine, tmp_path, [again, other_country])

    assert report.errors == [
        RowError(2, "title", "this organisation already has a practice with this title")
    ]
    assert report.imported == 1
    assert count(engine, Practice) == 2
    assert count(engine, Organisation) == 2


def test_labels_and_any_letter_case_are_accepted(engine, tmp_path):
    row = practice_row(
        practice_type="App",
        maturity="PILOT",
        countries="de;Estonia;fr",
        owner_country="ee",
        health_domains="Cardiovascular;MENTAL-HEALTH",
        standards="hl7 fhir;Snomed-CT",
        languages="de;German;EN",
        transferable="Yes",
    )

    report = import_csv(engine, tmp_path, [row])

    assert report.ok, report.errors
    [practice] = export_practices(engine=engine)
    assert practice["practice_type"] == "app"
    assert practice["maturity"] == 2
    assert practice["countries"] == ["DE", "EE", "FR"]
    assert practice["owner_country"] == "EE"
    assert practice["health_domains"] == ["cardiovascular", "mental-health"]
    assert practice["standards"] == ["fhir", "snomed-ct"]
    assert practice["languages"] == ["de", "en"]
    assert practice["transferable"] is True


def test_an_infinite_start_year_is_a_row_error_not_a_crash(engine, tmp_path):
    report = import_csv(engine, tmp_path, [practice_row(start_year="1e999")])

    assert [(e.row, e.column) for e in report.errors] == [(2, "start_year")]
    assert count(engine, Practice) == 0


def test_control_characters_and_blank_rows(engine, tmp_path):
    rows = [practice_row(title="Nul\x00title"), {}, practice_row(title="Fine title")]

    report = import_practices(rows, engine=engine, actor=CLI)

    assert [(e.row, e.column) for e in report.errors] == [(2, "title")]
    assert "control character" in report.errors[0].message
    assert report.imported == 1


def test_an_import_needs_an_admin_when_an_actor_is_given(engine, tmp_path):
    with db.session_scope(engine) as session:
        admin = User(
            username="admin", display_name="A", email="a@x.org", role="admin", password_hash="x"
        )
        owner = User(
            username="owner", display_name="O", email="o@x.org", role="owner", password_hash="x"
        )
        session.add_all([admin, owner])

    with pytest.raises(PermissionDenied):
        import_practices([practice_row()], engine=engine, actor=owner)
    assert count(engine, Practice) == 0

    report = import_practices([practice_row()], engine=engine, actor=admin)
    assert report.imported == 1
    with db.session_scope(engine) as session:
        assert session.exec(select(Practice.created_by_id)).scalar_one() == admin.id
        assert session.exec(select(AuditEvent.actor_name)).scalar_one() == "admin"


def test_progress_is_reported_up_to_the_total(engine):
    rows = [practice_row(title=f"Practice number {n}") for n in range(1200)]
    calls = []

    import_practices(
        rows, engine=engine, actor=CLI, progress=lambda done, total: calls.append((done, total))
    )

    assert calls[-1] == (2400, 2400)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) >= 3


def test_only_the_first_thousand_problems_are_listed_and_all_are_counted(engine):
    rows = [practice_row(title=f"Practice {n}", maturity="7") for n in range(5_000)]

    report = import_practices(rows, engine=engine, actor=CLI)

    assert (report.rows_read, report.imported, report.rejected) == (5_000, 0, 5_000)
    assert (report.problems, len(report.errors), report.unlisted) == (5_000, 1_000, 4_000)
    assert [error.row for error in report.errors] == list(range(2, 1_002))
    assert report.summary() == "Read 5,000 rows, imported 0 practices, rejected 5,000 rows."


def test_the_listed_problems_are_the_first_of_both_checks_by_row(engine):
    # Row 2 is stored; after it, invalid rows alternate with duplicates of row 2.
    rows = [practice_row()] + [
        practice_row(title=f"Practice {n}", maturity="7") if n % 2 else practice_row()
        for n in range(1_500)
    ]

    report = import_practices([*rows, {}], engine=engine, actor=CLI)

    assert (report.rows_read, report.imported, report.rejected, report.blank) == (
        1_502,
        1,
        1_500,
        1,
    )
    assert [error.row for error in report.errors] == list(range(3, 1_003))
    assert {error.column for error in report.errors} == {"title", "maturity"}
    assert report.unlisted == 500


def test_the_import_benchmark_imports_ten_thousand_rows_and_removes_them(engine):
    # Its speed is reported by `dhu bench`, not asserted: a timed test fails on a busy machine.
    result = practice_io.run_import_bench(engine=engine, rows=10_000)

    assert result["imported"] == 10_000
    assert result["rows_per_second"] > 0, result
    assert count(engine, Practice) == 0  # the benchmark removes its practices again


# --- reading files -----------------------------------------------------------------------


def test_missing_required_column_is_an_error_for_the_whole_file(tmp_path):
    columns = [c for c in COLUMNS if c != "title"]
    path = csv_file(tmp_path, GOOD_ROWS, columns)

    with pytest.raises(ImportFileError, match="^missing required column: title$"):
        read_rows(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title,summary,colour\n", "unknown column: colour"),
        ("title,title\n", "column named more than once: title"),
        ("", "the file is empty"),
        ("title\n", "missing required columns: summary, practice_type"),
    ],
)
def test_a_wrong_header_is_an_error_for_the_whole_file(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ImportFileError, match=message):
        read_rows(path)


def test_unreadable_files_are_errors(tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(csv_text([practice_row(title="Sant\xe9 connect\xe9e")]).encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        read_rows(latin1)
    not_excel = tmp_path / "fake.xlsx"
    not_excel.write_text("title\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        read_rows(not_excel)
    ods = tmp_path / "sheet.ods"
    ods.write_bytes(b"PK\x03\x04")
    with pytest.raises(ImportFileError, match="cannot import a .ods file"):
        read_rows(ods)
    with pytest.raises(ImportFileError, match="cannot read"):
        read_rows(tmp_path / "missing.csv")


def test_csv_with_byte_order_mark_and_semicolons(engine):
    text = csv_text([practice_row(title="Mädchen, Gesundheit und Schule")], delimiter=";")
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = "Praktiken.CSV"

    rows = list(read_rows(upload))

    assert rows[0]["title"] == "Mädchen, Gesundheit und Schule"
    assert rows[0]["countries"] == "EE;LV"
    assert import_practices(rows, engine=engine, actor=CLI).imported == 1


def test_xlsx_import(engine, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([c.upper() for c in COLUMNS] + [None])
    for row in GOOD_ROWS[:2]:
        cells = [row.get(c) or None for c in COLUMNS]
        cells[COLUMNS.index("maturity")] = int(row["maturity"])
        sheet.append(cells)
    sheet.append([None] * len(COLUMNS))
    sheet["N2"] = 2019.0
    path = tmp_path / "practices.xlsx"
    workbook.save(path)

    report = import_practices(read_rows(path), engine=engine, actor=CLI)

    assert report.ok, report.errors
    assert report.imported == 2
    from_xlsx = stored(engine)
    empty(engine)
    import_csv(engine, tmp_path, GOOD_ROWS[:2])
    assert from_xlsx == stored(engine)
    assert from_xlsx[1]["start_year"] == 2019


# --- export ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_an_empty_database_gives_the_same_practices(engine, tmp_path, fmt):
    rows = [
        *GOOD_ROWS,
        practice_row(title='\'@Home care, "quoted"', summary="-Leading dash; and a semicolon"),
        practice_row(
            title="Ærø 'apostrophe' practice",
            owner_organisation="Ærø Kommune",
            owner_country="DK",
            countries="XK",
        ),
    ]
    assert import_practices(rows, engine=engine, actor=CLI).imported == 5
    before = stored(engine)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_bytes(export_practices(engine=engine), fmt))

    empty(engine)
    report = import_practices(read_rows(path), engine=engine, actor=CLI)

    assert report.ok, report.errors
    assert stored(engine) == before
    assert before[0]["title"] == '\'@Home care, "quoted"'


def test_csv_export_keeps_spreadsheets_from_running_formulas(engine):
    import_practices([GOOD_ROWS[2]], engine=engine, actor=CLI)

    data = export_bytes(export_practices(engine=engine), "csv")

    assert data.startswith("\ufeff".encode())
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["title"] == "'=Risk score calculator"
    assert row["countries"] == "AT;CH;DE"
    assert row["transferable"] == "no"
    workbook = openpyxl.load_workbook(
        io.BytesIO(export_bytes(export_practices(engine=engine), "xlsx"))
    )
    cell = workbook.active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=Risk score calculator", "s", True)


def test_export_json_has_lists_as_arrays(engine):
    import_practices(GOOD_ROWS[:1], engine=engine, actor=CLI)

    [practice] = json.loads(export_bytes(export_practices(engine=engine), "json"))

    assert list(practice) == list(COLUMNS)
    assert practice["countries"] == ["EE", "LV"]
    assert practice["standards"] == ["fhir", "snomed-ct"]
    assert (practice["maturity"], practice["start_year"], practice["transferable"]) == (
        4,
        2019,
        True,
    )


def test_export_gives_published_practices_in_the_order_asked(engine):
    import_practices(GOOD_ROWS, engine=engine, actor=CLI)
    with db.session_scope(engine) as session:
        ids = {title: id_ for id_, title in session.exec(select(Practice.id, Practice.title))}
        session.execute(
            update(Practice).where(Practice.title == "Diabetes coaching app").values(status="draft")
        )
    heart, risk, diabetes = (
        ids["Heart failure telemonitoring"],
        ids["=Risk score calculator"],
        ids["Diabetes coaching app"],
    )

    chosen = export_practices([risk, diabetes, heart, 999_999], engine=engine)

    assert [row["title"] for row in chosen] == [
        "=Risk score calculator",
        "Heart failure telemonitoring",
    ]
    assert [row["title"] for row in export_practices(engine=engine)] == [
        "Heart failure telemonitoring",
        "=Risk score calculator",
    ]
    assert export_practices([], engine=engine) == []


def test_export_bytes_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        export_bytes([], "pdf")


# --- command line ------------------------------------------------------------------------


@pytest.fixture
def cli(engine, monkeypatch):
    """A CliRunner whose `dhu` uses the test database."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_import_of_a_good_file(cli, engine, tmp_path):
    result = cli.invoke(main, ["import", str(csv_file(tmp_path, GOOD_ROWS))])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Read 3 rows, imported 3 practices."
    assert count(engine, Practice) == 3


def test_cli_import_reports_rejected_rows_and_fails(cli, engine, tmp_path):
    path = csv_file(tmp_path, [practice_row(), practice_row(title="Other", maturity="7")])

    result = cli.invoke(main, ["import", str(path)])

    assert result.exit_code == 1
    assert result.stdout.strip() == "Read 2 rows, imported 1 practice, rejected 1 row."
    assert "row 3, column maturity: " in result.stderr and "'7'" in result.stderr
    assert count(engine, Practice) == 1


def test_cli_lists_the_first_thousand_problems_and_counts_the_others(cli, engine, tmp_path):
    rows = [practice_row(title=f"Practice {n}", maturity="7") for n in range(5_000)]

    result = cli.invoke(main, ["import", str(csv_file(tmp_path, rows))])

    assert result.exit_code == 1
    assert result.stdout.strip() == "Read 5,000 rows, imported 0 practices, rejected 5,000 rows."
    problems = result.stderr.splitlines()
    assert len(problems) == 1_002
    assert problems[0].startswith("row 2, column maturity: ")
    assert problems[999].startswith("row 1001, column maturity: ")
    assert problems[1_000:] == [
        "… and 4,000 more problems",
        "Correct the rejected rows and import them again.",
    ]


def test_cli_import_of_a_hostile_workbook_fails_with_a_message(cli, tmp_path):
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(
        package(
            sheet(header_row(), prolog='<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
        )
    )

    result = cli.invoke(main, ["import", str(path)])

    assert result.exit_code == 1
    assert "hostile.xlsx: the workbook is refused: " in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_cli_import_of_an_unreadable_file_fails(cli, tmp_path):
    path = csv_file(tmp_path, GOOD_ROWS, [c for c in COLUMNS if c != "title"])

    result = cli.invoke(main, ["import", str(path)])

    assert result.exit_code == 1
    assert "missing required column: title" in result.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_export_writes_a_file_that_imports_again(cli, engine, tmp_path, fmt):
    import_practices(GOOD_ROWS, engine=engine, actor=CLI)
    before = stored(engine)
    path = tmp_path / f"out.{fmt}"

    result = cli.invoke(main, ["export", "--format", fmt, "-o", str(path)])

    assert result.exit_code == 0, result.output
    empty(engine)
    assert cli.invoke(main, ["import", str(path)]).exit_code == 0
    assert stored(engine) == before


def test_cli_export_to_standard_output(cli, engine):
    import_practices(GOOD_ROWS, engine=engine, actor=CLI)

    result = cli.invoke(main, ["export", "--format", "json"])

    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 3
    refused = cli.invoke(main, ["export", "--format", "xlsx"])
    assert refused.exit_code == 2
    assert "needs a file" in refused.output


def test_the_workshop_captures_name_is_no_owner_an_import_can_name(engine, tmp_path):
    report = import_csv(
        engine, tmp_path, [practice_row(owner_organisation="workshop CAPTURES", title="Captured")]
    )
    assert report.imported == 0
    assert [str(e) for e in report.errors] == [
        "row 2, column owner_organisation: this name is kept for workshop captures; "
        "name the real owner"
    ]


def test_an_import_row_records_the_language_its_text_is_written_in(engine):
    rows = [
        practice_row(title="Telemonitoring bei Herzinsuffizienz", text_language="de"),
        practice_row(title="Télésurveillance cardiaque", text_language="French"),
        practice_row(title="Heart failure coaching"),
        practice_row(title="Teleconsulta", text_language="Castilian dialect"),
    ]
    report = import_practices(rows, engine=engine, actor=CLI)
    assert report.imported == 3
    assert [(e.row, e.column) for e in report.errors] == [(5, "text_language")]
    assert "choose the language the text is written in" in report.errors[0].message
    with db.read_scope(engine) as session:
        languages = dict(session.execute(select(Practice.title, Practice.text_language)).all())
    assert languages == {
        "Telemonitoring bei Herzinsuffizienz": "de",
        "Télésurveillance cardiaque": "fr",
        "Heart failure coaching": "en",
    }
