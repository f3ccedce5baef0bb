"""Sample form-tool exports shaped like the real ones: a KoboToolbox XLSX export (a main sheet named after the
form, a sheet per repeat group linked by _index / _parent_index, the submission metadata columns, an optional
HXL tag row) and an ODK Central CSV zip (the main CSV with KEY / ReviewState and group paths joined by '-', a
CSV per repeat group with PARENT_KEY / KEY).

A submission is a dict: ``uuid``, ``review`` (approved, rejected, unreviewed, on_hold / has_issues, edited),
``fields`` (the main fields by name) and ``participants`` (the repeat group's entries)."""

from __future__ import annotations

import copy
import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
ATTENDANCE_MAP = ROOT / "templates" / "forms" / "attendance_register.toml"
MENTORING_MAP = ROOT / "templates" / "forms" / "mentoring_log.toml"

TRAINING = ("training_title", "topic", "start_date", "end_date", "county", "venue", "delivery", "lead")
PARTICIPANT = ("p_name", "p_sex", "p_agency", "p_role", "p_staff_no", "pre_score", "post_score")
MENTORING = ("visit_date", "engagement_type", "county", "case_ref", "hours", "advisor", "counterpart", "summary")
KOBO_STATUS = {"approved": "validation_status_approved", "rejected": "validation_status_not_approved",
               "on_hold": "validation_status_on_hold", "unreviewed": "", "edited": "validation_status_approved"}
ODK_STATUS = {"approved": "approved", "rejected": "rejected", "has_issues": "hasIssues", "on_hold": "hasIssues",
              "unreviewed": "", "edited": "edited"}


def uuid(n: int) -> str:
    return f"{n:08x}-4b1e-4c2a-9d3f-{n:012x}"


def attendance_submissions() -> list[dict[str, Any]]:
    """Two approved registers, a rejected one and one not yet reviewed."""
    def training(title: str, county: str, start: str, end: str, **more: Any) -> dict[str, Any]:
        return {"training_title": title, "topic": "Evidence", "start_date": start, "end_date": end,
                "county": county, "venue": "Law courts", "delivery": "in_person", "lead": "joint", **more}

    def person(name: str, sex: str, agency: str, pre: Any = None, post: Any = None, **more: Any) -> dict[str, Any]:
        return {"p_name": name, "p_sex": sex, "p_agency": agency, "pre_score": pre, "post_score": post, **more}

    return [
        {"uuid": uuid(1), "review": "approved",
         "fields": training("Evidence in CTIP cases", "nairobi", "2025-07-01", "2025-07-03"),
         "participants": [person("Amina Ali", "female", "odpp", 40, 70, p_role="Prosecutor", p_staff_no="ODPP 101"),
                          person("John Otieno", "male", "dci", 55, 65),
                          person("Grace Njeri", "female", "children_services", 50, 60)]},
        {"uuid": uuid(2), "review": "approved",
         "fields": training("Victim-centred prosecution", "Mombasa", "2025-08-11", "2025-08-12"),
         "participants": [person("Amina Ali", "female", "odpp", 60, 80, p_role="Prosecutor", p_staff_no="ODPP101"),
                          person("Peter Kamau", "male", "judiciary", 45, 75)]},
        {"uuid": uuid(3), "review": "rejected",
         "fields": training("Duplicate register", "Kisumu", "2025-08-11", "2025-08-12"),
         "participants": [person("Rejected Person", "male", "dci", 10, 20)]},
        {"uuid": uuid(4), "review": "unreviewed",
         "fields": training("Financial investigation", "Kilifi", "2025-09-02", "2025-09-04"),
         "participants": [person("Mary Wanjiru", "female", "ngo", 30, 55)]},
    ]


def edited(submissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The next export: submission 2 edited (venue, one post-test score), a new approved one added."""
    out = copy.deepcopy(submissions)
    out[1]["fields"]["venue"] = "Mombasa law courts"
    out[1]["participants"][1]["post_score"] = 85
    out[1]["review"] = "edited"
    out.append({"uuid": uuid(5), "review": "approved",
                "fields": {**out[0]["fields"], "training_title": "Evidence refresher", "start_date": "2025-09-15",
                           "end_date": "2025-09-15"},
                "participants": [{"p_name": "Rose Achieng", "p_sex": "female", "p_agency": "odpp",
                                  "pre_score": 35, "post_score": 70}]})
    return out


def mentoring_submissions() -> list[dict[str, Any]]:
    return [
        {"uuid": uuid(11), "review": "approved", "participants": [],
         "fields": {"visit_date": "2025-08-04", "engagement_type": "case_mentoring", "county": "Kilifi",
                    "case_ref": "CTIP/MSA/2025/001", "hours": "6", "advisor": "Advisor A",
                    "counterpart": "Senior prosecutor", "summary": "Charge review"}},
        {"uuid": uuid(12), "review": "approved", "participants": [],
         "fields": {"visit_date": "2025-08-20", "engagement_type": "coordination", "county": "Nairobi",
                    "hours": "2.5"}},
    ]


# KoboToolbox --------------------------------------------------------------------------------------------------
KOBO_META = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
             "__version__", "_tags", "_index")
KOBO_REPEAT_META = ("_index", "_parent_table_name", "_parent_index", "_submission__id", "_submission__uuid",
                    "_submission__submission_time", "_submission__validation_status")


def kobo_export(path: Path, submissions: list[dict[str, Any]], *, title: str = "Attendance register",
                fields: tuple[str, ...] = TRAINING, group: str | None = "training", hxl: bool = True,
                status: dict[str, str] | None = None) -> Path:
    """A KoboToolbox XLSX export ("XML values and headers", groups included, separator '/')."""
    status = status or KOBO_STATUS
    wb = Workbook()
    main = wb.active
    main.title = title[:31]
    prefix = f"{group}/" if group else ""
    headers = ["start", "end", *(prefix + f for f in fields), "meta/instanceID", *KOBO_META]
    main.append(headers)
    if hxl:
        main.append(["", "", *("#date" if "date" in f else "#adm1" if f == "county" else "" for f in fields),
                     "", "", "#meta +uuid", "", "", "", "", "", "", "", ""])
    repeat = None
    if any(s["participants"] for s in submissions):
        repeat = wb.create_sheet("participants")
        repeat.append([f"participants/{f}" for f in PARTICIPANT] + list(KOBO_REPEAT_META))
    entry = 0
    for n, s in enumerate(submissions, 1):
        main.append(["2025-09-01T08:00:00.000+03:00", "2025-09-01T09:00:00.000+03:00",
                     *(s["fields"].get(f) for f in fields), f"uuid:{s['uuid']}", 1000 + n, s["uuid"],
                     "2025-09-01T09:05:00", status[s["review"]], "", "submitted_via_web", "enumerator1",
                     "vQ8cR3x", "", n])
        for p in s["participants"]:
            entry += 1
            assert repeat is not None
            repeat.append([*(p.get(f) for f in PARTICIPANT), entry, title[:31], n, 1000 + n, s["uuid"],
                           "2025-09-01T09:05:00", status[s["review"]]])
    wb.save(path)
    return path


# ODK Central --------------------------------------------------------------------------------------------------
ODK_META_BEFORE = ("SubmissionDate", "start", "end")
ODK_META_AFTER = ("KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
                  "ReviewState", "DeviceID", "Edits", "FormVersion")


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


def odk_export(path: Path, submissions: list[dict[str, Any]], *, form: str = "attendance_register",
               fields: tuple[str, ...] = TRAINING, group: str | None = "training") -> Path:
    """An ODK Central export: a zip of CSVs (the main table and one per repeat group)."""
    prefix = f"{group}-" if group else ""
    has_repeat = any(s["participants"] for s in submissions)
    main: list[list[Any]] = [[*ODK_META_BEFORE, *(prefix + f for f in fields),
                              *(["SET-OF-participants"] if has_repeat else []), "meta-instanceID", *ODK_META_AFTER]]
    repeat: list[list[Any]] = [[*PARTICIPANT, "PARENT_KEY", "KEY"]]
    for n, s in enumerate(submissions, 1):
        key = f"uuid:{s['uuid']}"
        edits = 1 if s["review"] == "edited" else 0
        main.append(["2025-09-01T06:05:00.000Z", "2025-09-01T08:00:00.000+03:00", "2025-09-01T09:00:00.000+03:00",
                     *(s["fields"].get(f) for f in fields), *([f"{key}/participants"] if has_repeat else []),
                     key, key, 7, "tablet-3", 0, 0, "", ODK_STATUS[s["review"]], f"collect:{n}", edits, "2025090101"])
        for i, p in enumerate(s["participants"], 1):
            repeat.append([*(p.get(f) for f in PARTICIPANT), key, f"{key}/participants[{i}]"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{form}.csv", _csv(main))
        if has_repeat:
            zf.writestr(f"{form}-participants.csv", _csv(repeat))
    return path


def export(tool: str, path: Path, submissions: list[dict[str, Any]], **kw: Any) -> Path:
    if tool == "kobo":
        return kobo_export(path.with_suffix(".xlsx"), submissions, **kw)
    kw.pop("title", None)
    kw.pop("hxl", None)
    return odk_export(path.with_suffix(".zip"), submissions, **kw)


# The examples shipped in templates/forms/examples/ ---------------------------------------------------------------
EXAMPLES = ROOT / "templates" / "forms" / "examples"


def write_examples(folder: Path = EXAMPLES) -> list[Path]:
    """The sample exports a newcomer tries the mapping examples on (docs/reference/import-format.md): an
    attendance register and a mentoring log, each as a KoboToolbox XLSX and an ODK Central zip. The register
    holds two approved submissions, a rejected one and one not yet reviewed."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for tool in ("kobo", "odk"):
        out.append(export(tool, folder / f"attendance_register-{tool}", attendance_submissions()))
        out.append(export(tool, folder / f"mentoring_log-{tool}", mentoring_submissions(), title="Mentoring log",
                          fields=MENTORING, group=None, **({"form": "mentoring_log"} if tool == "odk" else {})))
    return out


if __name__ == "__main__":  # .venv/bin/python -m tests.imports.form_exports: rewrite the shipped examples
    for written in write_examples():
        print(written.relative_to(ROOT))
