"""The evaluators' workbook (`audit export`), written from the reader's audit entries and sign-off views.

The workbook carries every field the hash covers, in the exact canonical form (the `Occurred at (canonical)`
and `Changes (canonical JSON)` columns), so an evaluator can recompute the chain from the file alone; its
"How to verify" sheet says how.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mou_tracker.errors import MouError
from mou_tracker.read.audit import EventFilter
from mou_tracker.read.views import cell_text
from mou_tracker.services.audit import canonical_value

# The evaluators' workbook -----------------------------------------------------------------------------------------
EVENT_COLUMNS = ("Seq", "Occurred at (UTC)", "Actor", "Action", "Entity kind", "Entity ID", "Reference",
                 "Partnership ID", "Changes", "Reason category", "Reason text", "Occurred at (canonical)",
                 "Changes (canonical JSON)", "Previous hash", "Hash", "Changes (canonical JSON, continued)", "Login")
#: one row per field an update changed (creations and deletions are whole records: see Events)
CHANGE_COLUMNS = ("Seq", "Occurred at (UTC)", "Actor", "Action", "Entity kind", "Reference", "Field", "Old value",
                  "New value", "Reason category", "Reason text")
CELL_LIMIT = 32_767
SHEET_ROWS = 1_000_000
HOW_TO_VERIFY = (
    "Each event's hash is SHA-256 (hex) over the UTF-8 bytes of a canonical JSON object with exactly these keys: "
    "action, actor, changes, entity_id, entity_kind, entity_ref, occurred_at, partnership_id, prev_hash, "
    "reason_category, reason_text, seq.",
    "Keys sorted, no whitespace (separators ',' and ':'), non-ASCII characters written as themselves (not "
    "\\u escapes), missing values as null. Python: json.dumps(obj, sort_keys=True, separators=(',', ':'), "
    "ensure_ascii=False).",
    "occurred_at is the text in column 'Occurred at (canonical)' (UTC, e.g. 2025-09-30T17:00:00.010000Z); changes "
    "is the text in 'Changes (canonical JSON)' (followed by the continuation column, if any), embedded as a JSON "
    "string; seq, entity_id and partnership_id are numbers.",
    "prev_hash is the hash of the previous event (64 zeros for event 1). The chain is intact when every event's "
    "hash recomputes and names its predecessor's hash, with no gap in the sequence.",
    "A head printed on a report's Cover (the hash of the last event at that time) must still appear in the "
    "trail: `mou-tracker audit verify --anchor HASH` checks it against the database.",
    "Python, per row: hashlib.sha256(json.dumps({...}, sort_keys=True, separators=(',', ':'), "
    "ensure_ascii=False).encode('utf-8')).hexdigest() == Hash",
)


class _Sheet:
    """A write-only sheet with a header, an Excel table with filters, frozen header, printable landscape."""

    def __init__(self, wb: Any, title: str, headers: tuple[str, ...], widths: dict[int, int] | None = None) -> None:
        from openpyxl.utils import get_column_letter

        self.wb = wb
        self.base = title
        self.headers = headers
        self.widths = widths or {}
        self.letter = get_column_letter(len(headers))
        self.part = 0
        self.rows = 0
        self.ws: Any = None
        self._open()

    def _open(self) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        if self.ws is not None:
            self._finish()
        self.part += 1
        title = self.base if self.part == 1 else f"{self.base} ({self.part})"
        ws = self.wb.create_sheet(title)
        for i, heading in enumerate(self.headers, 1):
            ws.column_dimensions[get_column_letter(i)].width = self.widths.get(i, max(12, min(40, len(heading) + 4)))
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        bold = Font(bold=True)
        header = []
        for h in self.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        self.ws = ws
        self.rows = 0

    def append(self, values: list[Any]) -> None:
        if self.rows >= SHEET_ROWS:
            self._open()
        self.ws.append([_cell(self.ws, v) for v in values])
        self.rows += 1

    def _finish(self) -> None:
        from openpyxl.worksheet.filters import AutoFilter
        from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

        if self.rows:
            name = "".join(ch for ch in self.base.title() if ch.isalnum()) + (str(self.part) if self.part > 1 else "")
            ref = f"A1:{self.letter}{self.rows + 1}"
            table = Table(displayName=name, ref=ref, autoFilter=AutoFilter(ref=ref),
                          tableColumns=[TableColumn(id=i, name=h) for i, h in enumerate(self.headers, 1)])
            table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
            with warnings.catch_warnings():  # write-only mode warns even when the columns are given, as here
                warnings.simplefilter("ignore", UserWarning)
                self.ws.add_table(table)

    def close(self) -> None:
        self._finish()


def _cell(ws: Any, value: Any) -> Any:
    """Values as typed cells; text is always text (never a formula), free of characters XML cannot hold."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value.astimezone(UTC).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            return cell
    return value


def export_workbook(reader: Any, path: Path, flt: EventFilter = EventFilter(), *,
                    progress: Callable[[int], None] | None = None, verify: bool = True,
                    include_personal_data: bool = False) -> str:
    """Write the trail (or the part ``flt`` selects) to ``path``; returns a one-line summary."""
    from openpyxl import Workbook

    from mou_tracker.outputs import atomic_output, check_output

    db_file = reader.db_file
    path = check_output(path, suffix=".xlsx", db_file=db_file)  # before any work: never over the database
    result = reader.verify_chain() if verify else None
    wb = Workbook(write_only=True)
    about = wb.create_sheet("About")
    events = _Sheet(wb, "Events", EVENT_COLUMNS, {1: 9, 2: 20, 9: 60, 12: 30, 13: 60, 14: 66, 15: 66})
    changes = _Sheet(wb, "Changes", CHANGE_COLUMNS, {1: 9, 2: 20, 8: 30, 9: 30, 11: 40})
    count = 0
    first = last = None
    for entry in reader.audit_entries(flt, include_personal_data=include_personal_data):
        raw = entry.raw_changes
        events.append([entry.seq, entry.occurred_at, entry.actor, entry.action, entry.entity_kind, entry.entity_id,
                       entry.entity_ref, entry.partnership_id, entry.summary(limit=40), entry.reason_category,
                       entry.reason_text, canonical_value(entry.occurred_at), raw[:CELL_LIMIT], entry.prev_hash,
                       entry.hash, raw[CELL_LIMIT:2 * CELL_LIMIT] or None, entry.login])
        for c in entry.changes if entry.action == "update" else ():
            changes.append([entry.seq, entry.occurred_at, entry.actor, entry.action, entry.entity_kind,
                            entry.entity_ref, c.label, cell_text(c.old), cell_text(c.new), entry.reason_category,
                            entry.reason_text])
        count += 1
        first = entry.seq if first is None else first
        last = entry.seq
        if progress is not None and count % 1000 == 0:
            progress(1000)
    events.close()
    changes.close()
    _signoff_sheets(reader, wb, flt)
    _about(about, reader.location, flt, count, first, last, result)
    try:
        with atomic_output(path, suffix=".xlsx", db_file=db_file) as tmp:
            wb.save(tmp)
    except OSError as exc:
        raise MouError(f"cannot write {path}: {exc.strerror or exc}") from exc
    verdict = "" if result is None else (
        "; chain verified OK" if result.ok
        else f"; VERIFICATION FAILED ({len(result.findings)} findings, see the About sheet)")
    return f"Exported {count} audit events to {path}{verdict}"


def _signoff_sheets(reader: Any, wb: Any, flt: EventFilter) -> None:
    signoffs, locks, restated = reader.signoff_records(flt.partnership_id)
    sheet = _Sheet(wb, "Sign-offs", ("Period", "Party", "Signed by", "Signed at (UTC)", "Comment",
                                     "Chain seq", "Chain head"), {5: 40, 7: 66})
    for x in signoffs:
        sheet.append([x.period, x.party.upper(), x.actor, x.signed_at, x.comment, x.chain_seq, x.chain_head])
    sheet.close()
    sheet = _Sheet(wb, "Locks", ("Period", "Locked at (UTC)", "Locked by", "Reason"), {4: 60})
    for lock in locks:
        sheet.append([lock.period, lock.locked_at, lock.actor, lock.reason])
    sheet.close()
    sheet = _Sheet(wb, "Restatements", ("Indicator", "Period", "Reported value", "Restated value", "When (UTC)",
                                        "Who", "Reason category", "Reason text", "Event seq"), {8: 50})
    for r in restated:
        sheet.append([r.indicator_code, r.period, r.reported_value, r.restated_value, r.at, r.actor,
                      r.reason_category, r.reason_text, r.event_seq])
    sheet.close()


def _about(ws: Any, where: str, flt: EventFilter, count: int, first: int | None, last: int | None,
           result: Any) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    title = WriteOnlyCell(ws, value="mou-tracker audit trail export")
    title.font = Font(bold=True, size=14)
    ws.append([title])
    rows: list[tuple[str, Any]] = [
        ("Database", str(where)),
        ("Generated at (UTC)", datetime.now(UTC)),
        ("Events exported", count),
        ("Selection", flt.describe()),
        ("Sequence range", f"#{first} to #{last}" if first is not None else "none"),
    ]
    if result is not None:
        rows += [("Events in the whole trail", result.events), ("Chain head", result.head),
                 ("Verification", result.summary())]
        rows += [("Finding", line) for line in result.findings]
        rows += [("Warning", line) for line in result.warnings]
    wrap = Alignment(wrap_text=True, vertical="top")
    for key, value in rows:
        label = WriteOnlyCell(ws, value=key)
        label.font = Font(bold=True)
        ws.append([label, _cell(ws, value)])
    ws.append([])
    heading = WriteOnlyCell(ws, value="How to verify")
    heading.font = Font(bold=True, size=12)
    ws.append([heading])
    for n, line in enumerate(HOW_TO_VERIFY, 1):
        cell = WriteOnlyCell(ws, value=line)
        cell.alignment = wrap
        ws.append([f"{n}.", cell])
