"""`mou-tracker import EXPORT --mapping MAP.toml`: KoboToolbox XLSX and ODK Central CSV-zip exports, through the
command line, on SQLite and PostgreSQL. Round trip: import, re-import writes nothing, the rejected and the
unreviewed submissions are left out and named in the export's terms, an edited submission updates the records
it made (audited), any invalid cell leaves the database untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from mou_tracker.cli import cli
from mou_tracker.db.models import Attendance, AuditEvent, Engagement, Participant, Training
from tests.imports import form_exports as F
from tests.imports.helpers import audit_count, chain_intact, snapshot

TOOLS = ["kobo", "odk"]


def run(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def count(db, model) -> int:
    with db.reading() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def url(db_url):
    assert run("--db", db_url, "init").exit_code == 0
    return db_url


@pytest.mark.parametrize("tool", TOOLS)
def test_round_trip_import_reimport_and_an_edited_submission(tool, url, db, tmp_path):
    first = F.export(tool, tmp_path / "register-1", F.attendance_submissions())
    mapping = str(F.ATTENDANCE_MAP)
    before = snapshot(db)
    dry = run("--db", url, "import", str(first), "--mapping", mapping, "--dry-run")
    assert dry.exit_code == 0 and dry.stderr == "" and snapshot(db) == before
    assert "  Trainings: 2 new, 0 changed, 0 unchanged" in dry.stdout
    assert "  Participants: 5 new, 0 changed, 0 unchanged" in dry.stdout

    done = run("--db", url, "import", str(first), "--mapping", mapping)
    assert done.exit_code == 0, done.stderr
    assert count(db, Training) == 2 and count(db, Attendance) == 5
    assert count(db, Participant) == 4  # Amina Ali attends both: one person (same staff number)
    # the rejected and the unreviewed submissions are named where their review state is shown
    row3, row4 = (5, 6) if tool == "kobo" else (4, 5)  # the Kobo export has an HXL tag row
    if tool == "kobo":
        rejected = f"'Attendance register'!O{row3}: submission {F.uuid(3)} is rejected " \
                   "(validation_status_not_approved); left out"
        pending = f"'Attendance register'!O{row4}: submission {F.uuid(4)} is not reviewed"
    else:
        rejected = f"attendance_register.csv, row {row3}, column ReviewState: submission {F.uuid(3)} is rejected; " \
                   "left out"
        pending = f"attendance_register.csv, row {row4}, column ReviewState: submission {F.uuid(4)} is not reviewed"
    assert rejected in done.stdout.splitlines()
    assert any(line.startswith(pending) and "--include-unreviewed" in line for line in done.stdout.splitlines())
    with db.reading() as s:
        titles = set(s.execute(select(Training.title)).scalars())
    assert titles == {"Evidence in CTIP cases", "Victim-centred prosecution"}

    events = audit_count(db)
    again = run("--db", url, "import", str(first), "--mapping", mapping)
    assert again.exit_code == 0 and audit_count(db) == events
    assert "  Trainings: 0 new, 0 changed, 2 unchanged" in again.stdout
    assert "  Participants: 0 new, 0 changed, 5 unchanged" in again.stdout

    # the next export: submission 2 edited (and re-approved on Kobo; 'edited' on ODK), submission 5 new
    second = F.edited(F.attendance_submissions())
    if tool == "odk":
        later = F.export(tool, tmp_path / "register-2", second)
        held = run("--db", url, "import", str(later), "--mapping", mapping)
        assert held.exit_code == 0 and "  Trainings: 1 new, 0 changed, 1 unchanged" in held.stdout
        assert f"submission {F.uuid(2)} is marked 'edited' (edited), not approved" in held.stdout
        second[1]["review"] = "approved"  # the reviewer approves the edit
    later = F.export(tool, tmp_path / "register-3", second)
    events = audit_count(db)
    done = run("--db", url, "import", str(later), "--mapping", mapping)
    assert done.exit_code == 0, done.stderr
    assert "  Trainings: " + ("0" if tool == "odk" else "1") + " new, 1 changed (Venue)" in done.stdout
    assert "Post-test score 75 -> 85" in done.stdout
    assert count(db, Training) == 3 and count(db, Attendance) == 6  # nothing duplicated
    with db.reading() as s:
        venue = s.execute(select(Training.venue).where(Training.code == f"AR-{F.uuid(2)}")).scalar_one()
        updates = s.execute(select(AuditEvent).where(AuditEvent.seq > events, AuditEvent.action == "update")
                            ).scalars().all()
    assert venue == "Mombasa law courts"
    changed = {(e.entity_kind, tuple(sorted(json.loads(e.changes) if isinstance(e.changes, str) else e.changes)))
               for e in updates}
    assert ("training", ("venue",)) in changed and ("attendance", ("post_score",)) in changed
    assert chain_intact(db)


@pytest.mark.parametrize("tool", TOOLS)
def test_include_unreviewed_takes_pending_submissions_but_never_rejected_ones(tool, url, db, tmp_path):
    path = F.export(tool, tmp_path / "register", F.attendance_submissions())
    done = run("--db", url, "import", str(path), "--mapping", str(F.ATTENDANCE_MAP), "--include-unreviewed")
    assert done.exit_code == 0, done.stderr
    with db.reading() as s:
        titles = set(s.execute(select(Training.title)).scalars())
    assert titles == {"Evidence in CTIP cases", "Victim-centred prosecution", "Financial investigation"}
    assert "Submissions: 3 taken, 1 left out" in done.stdout and f"submission {F.uuid(3)} is rejected" in done.stdout


@pytest.mark.parametrize("tool", TOOLS)
def test_an_invalid_cell_writes_nothing_and_is_named_in_the_exports_terms(tool, url, db, tmp_path):
    submissions = F.attendance_submissions()
    submissions[0]["fields"]["county"] = "Gotham"
    submissions[1]["participants"][1]["p_sex"] = "x"
    submissions[1]["participants"][1]["post_score"] = "101"
    submissions[2]["fields"]["county"] = "Atlantis"  # rejected: its problems are no concern
    path = F.export(tool, tmp_path / "register", submissions)
    before = snapshot(db)
    result = run("--db", url, "import", str(path), "--mapping", str(F.ATTENDANCE_MAP))
    assert result.exit_code == 1 and snapshot(db) == before
    if tool == "kobo":
        expected = ["'Attendance register'!G3: County 'Gotham' is not one of Kenya's 47 counties",
                    "participants!B6: Sex 'x' is not one of F, M",
                    "participants!G6: Post-test score 101 is above the maximum 100"]
    else:
        expected = ["attendance_register.csv, row 2, column training-county: County 'Gotham' is not one of "
                    "Kenya's 47 counties",
                    "attendance_register-participants.csv, row 6, column p_sex: Sex 'x' is not one of F, M",
                    "attendance_register-participants.csv, row 6, column post_score: Post-test score 101 is above "
                    "the maximum 100"]
    lines = result.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [e.split(": ", 1)[0] for e in expected]
    assert "Gotham" in lines[0] and "Sex" in lines[1] and "Post-test score" in lines[2]
    assert result.stdout.startswith(f"Nothing was imported from {path.name}: 3 problems")


@pytest.mark.parametrize("tool", TOOLS)
def test_mentoring_log_makes_engagements_keyed_by_submission(tool, url, db, tmp_path):
    path = F.export(tool, tmp_path / "mentoring", F.mentoring_submissions(), title="Mentoring log",
                    fields=F.MENTORING, group=None, **({"form": "mentoring_log"} if tool == "odk" else {}))
    done = run("--db", url, "import", str(path), "--mapping", str(F.MENTORING_MAP))
    assert done.exit_code == 0, done.stderr
    assert "  Engagements: 2 new, 0 changed, 0 unchanged" in done.stdout
    with db.reading() as s:
        rows = s.execute(select(Engagement.code, Engagement.type, Engagement.hours).order_by(Engagement.code)).all()
    assert [(r[0], r[1], float(r[2])) for r in rows] == [(f"ML-{F.uuid(11)}", "Case mentoring", 6.0),
                                                         (f"ML-{F.uuid(12)}", "Coordination", 2.5)]
    again = run("--db", url, "import", str(path), "--mapping", str(F.MENTORING_MAP))
    assert again.exit_code == 0 and "  Engagements: 0 new, 0 changed, 2 unchanged" in again.stdout


def test_participant_names_from_a_form_stay_sealed_in_the_audit_trail(url, db, tmp_path):
    path = F.export("kobo", tmp_path / "register", F.attendance_submissions())
    assert run("--db", url, "import", str(path), "--mapping", str(F.ATTENDANCE_MAP)).exit_code == 0
    with db.reading() as s:
        trail = " ".join(repr(tuple(e)) for e in s.execute(select(AuditEvent.__table__)).all())
    for name in ("Amina Ali", "John Otieno", "Grace Njeri", "ODPP101"):
        assert name not in trail


@pytest.mark.parametrize(("text", "message"), [
    ("[sheets.Trainings]\nfrom = 'main'\n[sheets.Trainings.columns]\n'Training ID' = '@key'\n",
     "map.toml: sheets.Trainings.columns: the required columns 'Title', 'Topic', 'Start date', 'End date', "
     "'County' are not mapped"),
    ("[form]\ntool = 'surveymonkey'\n", "map.toml: form.tool: 'surveymonkey' is not one of kobo, odk"),
    ("[sheets.Trainees]\n", "map.toml: sheets.Trainees: 'Trainees' is not one of the import sheets"),
    ("[form]\nprefix = 'X'\n", "map.toml: form.prefix: unknown key; the keys here are tool, id_prefix, title"),
    ("[sheets.Engagements.columns]\n'Engagement ID' = '@uuid'\n",
     "map.toml: sheets.Engagements.columns.\"Engagement ID\": '@uuid' is not known"),
    ("sheets = [\n", "map.toml: is not valid TOML"),
])
def test_a_bad_mapping_file_is_refused_naming_the_key(url, db, tmp_path, text, message):
    path = F.export("kobo", tmp_path / "register", F.attendance_submissions())
    mapping = tmp_path / "map.toml"
    mapping.write_text(text)
    before = snapshot(db)
    result = run("--db", url, "import", str(path), "--mapping", str(mapping))
    assert result.exit_code == 1 and snapshot(db) == before
    lines = result.stderr.splitlines()
    assert lines[0].startswith(message) and all(line.startswith("map.toml: ") for line in lines)


def test_every_mistake_of_a_mapping_file_is_listed_at_once(url, db, tmp_path):
    """Each mistake was reported alone: fix it, import, and meet the next one."""
    path = F.export("kobo", tmp_path / "register", F.attendance_submissions())
    mapping = tmp_path / "map.toml"
    mapping.write_text(Path(F.ATTENDANCE_MAP).read_text()
                       .replace("[form]\n", "[form]\ncolour = 'blue'\n", 1)
                       .replace('"topic"', '"@topic"', 1)
                       .replace('"Title" = ', '"Titel" = ', 1))
    before = snapshot(db)
    result = run("--db", url, "import", str(path), "--mapping", str(mapping), "--dry-run")
    assert result.exit_code == 1 and snapshot(db) == before
    lines = result.stderr.splitlines()
    assert lines[0].startswith("map.toml: form.colour: unknown key")
    assert any(line.startswith("map.toml: sheets.Trainings.columns.Titel: 'Titel' is not a column of the "
                               "Trainings sheet") for line in lines)
    assert any(line.startswith("map.toml: sheets.Trainings.columns.Topic: '@topic' is not known") for line in lines)
    assert "map.toml: sheets.Trainings.columns: the required column 'Title' is not mapped" in lines
    assert "Nothing was imported from register.xlsx: 4 problems" in result.stderr + result.output


@pytest.mark.parametrize("tool", TOOLS)
def test_every_field_the_export_lacks_is_named_at_once(tool, url, db, tmp_path):
    path = F.export(tool, tmp_path / "register", F.attendance_submissions())
    mapping = tmp_path / "map.toml"
    mapping.write_text(Path(F.ATTENDANCE_MAP).read_text().replace('"topic"', '"training_topic"')
                       .replace('"county"', '"training_county"'))
    result = run("--db", url, "import", str(path), "--mapping", str(mapping))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines if "no field" in line] == [
        'sheets.Trainings.columns."Topic"', 'sheets.Trainings.columns."County"']


def test_a_mapped_field_the_export_lacks_is_named(url, db, tmp_path):
    path = F.export("odk", tmp_path / "register", F.attendance_submissions())
    mapping = tmp_path / "map.toml"
    mapping.write_text(Path(F.ATTENDANCE_MAP).read_text().replace('"topic"', '"training_topic"'))
    result = run("--db", url, "import", str(path), "--mapping", str(mapping))
    assert result.exit_code == 1
    assert result.stderr.startswith("map.toml: sheets.Trainings.columns.\"Topic\": no field 'training_topic' in "
                                    "attendance_register.csv")


def test_the_wrong_file_and_the_wrong_options_are_refused(url, db, tmp_path):
    mapping = str(F.ATTENDANCE_MAP)
    book = tmp_path / "plain.xlsx"
    F.kobo_export(book, []).rename(tmp_path / "x.xlsx")
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Training ID", "Title"])
    wb.save(book)
    result = run("--db", url, "import", str(book), "--mapping", mapping)
    assert result.exit_code == 1 and "is not a KoboToolbox export: no sheet has a _uuid column" in result.stderr
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    result = run("--db", url, "import", str(text), "--mapping", mapping)
    assert result.exit_code == 1 and "not a zip archive" in result.stderr
    assert run("--db", url, "import", str(book), "--include-unreviewed").exit_code == 2
    assert run("--db", url, "import", str(book), "--mapping", mapping, "--errors",
               str(tmp_path / "e.xlsx")).exit_code == 2
