"""Building import workbooks for the tests (with openpyxl, or as raw XML for files openpyxl cannot make),
and looking at the whole database before and after."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select, text

from mou_tracker.db.engine import Database
from mou_tracker.db.models import AuditEvent, Base
from mou_tracker.imports.reader import column_letter
from mou_tracker.imports.sheets import SHEETS
from mou_tracker.services.audit import event_hash

HEADERS = {spec.name: [f.label for f in spec.columns] for spec in SHEETS}


def write_book(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> Path:
    """A workbook with one sheet per entry: row 1 the documented headers (plus any other keys used), then the rows."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        headers = list(HEADERS.get(name, []))
        for row in rows:
            headers += [k for k in row if k not in headers]
        ws.append(headers)
        for row in rows:
            ws.append([row.get(h) for h in headers])
    wb.save(path)
    return path


def sample_sheets() -> dict[str, list[dict[str, Any]]]:
    """A valid workbook touching every sheet."""
    return {
        "Trainings": [
            {"Training ID": "TR-1", "Title": "Evidence in CTIP cases", "Topic": "Evidence",
             "Start date": date(2025, 7, 1), "End date": date(2025, 7, 3), "County": "Nairobi City",
             "Venue": "Milimani", "Delivery": "In person", "Lead": "HTI", "Cost": 4200, "Currency": "USD"},
            {"Training ID": "TR-2", "Title": "Victim-centred prosecution", "Topic": "Victims",
             "Start date": "2025-09-29", "End date": "2025-10-02", "County": "mombasa", "Delivery": "hybrid",
             "Lead": "joint"},
        ],
        "Participants": [
            {"Training ID": "TR-1", "Name": "Amina Ali", "Sex": "F", "Agency": "ODPP", "Role": "Prosecutor",
             "Staff number": "odpp 101", "Pre-test score": 40, "Post-test score": 70},
            {"Training ID": "TR-1", "Name": "John Otieno", "Sex": "M", "Agency": "DCI", "Pre-test score": 55,
             "Post-test score": 65},
            {"Training ID": "TR-2", "Name": "AMINA  ali", "Sex": "F", "Agency": "ODPP", "Role": "Prosecutor",
             "Staff number": "ODPP101", "Pre-test score": 60, "Post-test score": 80},
            {"Training ID": "TR-2", "Name": "Mary Wanjiru", "Sex": "F", "Agency": "Judiciary"},
        ],
        "Engagements": [
            {"Engagement ID": "TS-1", "Date": date(2025, 8, 4), "Type": "Case mentoring", "County": "Kilifi",
             "Case reference": "CTIP/MSA/2025/001", "Hours": 6, "HTI advisor": "Advisor A",
             "ODPP counterpart": "Senior prosecutor", "Summary": "Charge review"},
            {"Engagement ID": "TS-2", "Date": date(2025, 8, 20), "Type": "Coordination", "County": "Nairobi",
             "Hours": 2.5},
        ],
        "Milestones": [
            {"Milestone ID": "M1", "Title": "Baseline assessment", "Workstream": "Strategic advice", "Owner": "Joint",
             "Due date": date(2025, 8, 31), "Status": "Completed", "Completed on": date(2025, 8, 29),
             "Evidence": "Baseline report"},
            {"Milestone ID": "M2", "Title": "CTIP guidelines", "Workstream": "Strategic advice", "Owner": "HTI",
             "Due date": date(2025, 12, 15), "Status": "In progress"},
        ],
        "Results": [{"Indicator code": "OC1", "Period": "2025-Q3", "Value": 7, "Source": "ODPP CMS"}],
        "Targets": [{"Indicator code": "1.1", "Period": "2025-Q3", "Target": 2},
                    {"Indicator code": "1.2", "Period": "2025-Q3", "Target": 3}],
        "Grant": [{"Grant code": "HTI-KE-1", "Funder": "Human Trafficking Institute", "Currency": "USD",
                   "Amount": 1200000, "Start date": date(2025, 5, 12), "End date": date(2028, 5, 11)}],
        "Budget": [{"Line code": "BL1", "Name": "Trainings", "Category": "Training", "Amount": 420000},
                   {"Line code": "BL2", "Name": "Technical support", "Category": "technical support",
                    "Amount": 310000}],
        "Disbursements": [{"Date": date(2025, 5, 22), "Amount": 300000, "Currency": "USD", "Reference": "TRANCHE-1"},
                          {"Date": date(2025, 6, 2), "Amount": 1000, "Currency": "USD"}],
        "Expenditures": [
            {"Expenditure ID": "EX-1", "Date": date(2025, 7, 3), "Line code": "BL1", "Description": "Venue hire",
             "Amount": 1500, "Currency": "USD", "Reference": "INV-1"},
            {"Expenditure ID": "EX-2", "Date": date(2025, 8, 5), "Line code": "BL2", "Description": "Local travel",
             "Amount": 129000, "Currency": "KES", "Rate": 0.0077, "Reference": "PV-1"},
        ],
    }


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two snapshots are equal exactly when nothing was written."""
    out = {}
    with db.reading() as s:
        for table in Base.metadata.sorted_tables:
            rows = s.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def refused(services: Any, path: Path, **kwargs: Any) -> list[str]:
    """Import ``path``; it must be refused with nothing written. Returns the problem lines."""
    from mou_tracker.imports import import_workbook

    before = snapshot(services.db)
    outcome = import_workbook(services, path, **kwargs)
    assert not outcome.ok and not outcome.written
    assert snapshot(services.db) == before
    return outcome.problem_lines()


def audit_count(db: Database) -> int:
    with db.reading() as s:
        return s.execute(text("SELECT count(*) FROM audit_event")).scalar_one()


def chain_intact(db: Database) -> bool:
    """The audit trail verifies: with `audit verify`'s service (chain and tables replayed against the trail)
    when it is there, and always by recomputing each event's hash and its link to the one before."""
    try:
        from mou_tracker.services.verify import verify_chain
    except ImportError:
        verify_chain = None
    if verify_chain is not None:
        result = verify_chain(db)
        assert result.ok, result.details()
    with db.reading() as s:
        prev = None
        for event in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
            if event_hash(event) != event.hash or (prev is not None and event.prev_hash != prev):
                return False
            prev = event.hash
    return True


# Raw workbooks: what openpyxl will not write (cached formula results, error values, a million rows) -------------
def _cell_xml(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):  # (formula, cached) or ("#error", kind)
        first, second = value
        if first == "error":
            return f'<c r="{ref}" t="e"><v>{second}</v></c>'
        cached = "" if second is None else (f"<v>{second}</v>" if not isinstance(second, str)
                                            else f"<v>{second}</v>")
        kind = ' t="str"' if isinstance(second, str) else ""
        return f'<c r="{ref}"{kind}><f>{_escape(first)}</f>{cached}</c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{_escape(str(value))}</t></is></c>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sheet_xml(rows: Iterable[list[Any]], merged: tuple[str, ...] = ()) -> Iterable[str]:
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{column_letter(c)}{r}", v) for c, v in enumerate(row))
        yield f'<row r="{r}">{cells}</row>'
    yield "</sheetData>"
    if merged:
        refs = "".join(f'<mergeCell ref="{m}"/>' for m in merged)
        yield f'<mergeCells count="{len(merged)}">{refs}</mergeCells>'
    yield "</worksheet>"


def raw_xlsx(path: Path, sheets: dict[str, Iterable[str]], hidden: tuple[str, ...] = (),
             content_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
             extra_parts: dict[str, bytes] | None = None) -> Path:
    """A minimal .xlsx written part by part; each sheet's XML is streamed (a million rows stay cheap)."""
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                    '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                    f'<Override PartName="/xl/workbook.xml" ContentType="{content_type}"/>{overrides}</Types>')
        zf.writestr("_rels/.rels",
                    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        states = {n: ' state="hidden"' if n in hidden else "" for n in names}
        sheet_tags = "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"{states[n]}/>'
                             for i, n in enumerate(names, start=1))
        zf.writestr("xl/workbook.xml",
                    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships"><sheets>{sheet_tags}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(names) + 1))
        zf.writestr("xl/_rels/workbook.xml.rels",
                    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                    f'package/2006/relationships">{rels}</Relationships>')
        for i, name in enumerate(names, start=1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as fh:
                for piece in sheets[name]:
                    fh.write(piece.encode("utf-8"))
        for part, data in (extra_parts or {}).items():
            zf.writestr(part, data)
    return path
