"""Reading the audit trail: readable history (`audit log`, the UI's Audit screen and milestone timeline, the
reports' Milestone history sheet) and the evaluators' workbook (`audit export`).

The workbook carries every field the hash covers, in the exact canonical form (the `Occurred at (canonical)`
and `Changes (canonical JSON)` columns), so an evaluator can recompute the chain from the file alone; its
"How to verify" sheet says how.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from mou_tracker.db.engine import Database
from mou_tracker.db.models import ENTITY_MODELS, AuditEvent, PeriodLock, PeriodSignoff, Restatement
from mou_tracker.errors import MouError
from mou_tracker.services.audit import canonical_value
from mou_tracker.services.history import end_of_day_utc

PAGE = 2000
ARROW = "->"

_ALIASES = {"signoff": "period_signoff", "sign_off": "period_signoff", "lock": "period_lock",
            "budget": "budget_line", "line": "budget_line", "grant_award": "grant", "app_user": "user",
            "technical_support": "engagement", "target_value": "target", "people": "participant",
            "person": "participant"}


def entity_kind(value: str) -> str:
    """The entity kind a user means ("Milestones", "budget line", "sign-off"); ValueError if none."""
    key = "_".join(value.strip().lower().replace("-", " ").split())
    for candidate in (key, key[:-1] if key.endswith("s") else key, key[:-2] if key.endswith("es") else key):
        candidate = _ALIASES.get(candidate, candidate)
        if candidate in ENTITY_MODELS:
            return candidate
    raise ValueError(f"'{value}' is not a kind of record; use one of: {', '.join(ENTITY_MODELS)}")


def field_label(kind: str, attr: str) -> str:
    """The label a user knows a field by (the import workbook's column header where there is one)."""
    from mou_tracker.services.programme import ENTITY_FIELDS

    for f in ENTITY_FIELDS.get(kind, ()):
        if f.attr == attr:
            return f.label
    return attr.replace("_", " ").capitalize()


@dataclass(frozen=True)
class EventFilter:
    kind: str | None = None
    #: a record's reference (M03, TR-2025-001) or, with ``kind``, its numeric id
    ref: str | None = None
    since: date | None = None
    until: date | None = None
    #: only this partnership's events and those of no partnership
    partnership_id: int | None = None
    entity_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.kind:
            out.append(AuditEvent.entity_kind == self.kind)
        if self.entity_id is not None:
            out.append(AuditEvent.entity_id == self.entity_id)
        if self.ref:
            ref = self.ref.strip()
            match = func.lower(AuditEvent.entity_ref) == ref.lower()
            if self.kind and ref.isdigit():
                match = or_(match, AuditEvent.entity_id == int(ref))
            out.append(match)
        if self.since:
            out.append(AuditEvent.occurred_at >= datetime.combine(self.since, datetime.min.time(), tzinfo=UTC))
        if self.until:
            out.append(AuditEvent.occurred_at < end_of_day_utc(self.until))
        if self.partnership_id is not None:
            out.append(or_(AuditEvent.partnership_id == self.partnership_id, AuditEvent.partnership_id.is_(None)))
        return out

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in (("kind", self.kind), ("record", self.ref), ("id", self.entity_id),
                                         ("from", self.since), ("to", self.until),
                                         ("partnership id", self.partnership_id)) if v is not None]
        return ", ".join(parts) or "the whole trail"


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class LogEntry:
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_kind: str
    entity_id: int | None
    entity_ref: str | None
    partnership_id: int | None
    changes: list[FieldChange]
    reason_category: str | None
    reason_text: str | None
    prev_hash: str
    hash: str
    #: the canonical JSON of the changes exactly as hashed (withheld for old events holding personal data)
    raw_changes: str
    #: who was logged in (database login on PostgreSQL; the OS login on SQLite when it differs from actor)
    login: str | None = None

    @property
    def reason(self) -> str | None:
        if not self.reason_category and not self.reason_text:
            return None
        return ": ".join(x for x in (self.reason_category, self.reason_text) if x)

    @property
    def what(self) -> str:
        verbs = {"create": "created", "update": "updated", "delete": "deleted", "erase": "erased personal data of"}
        verb = verbs.get(self.action, self.action)
        ref = self.entity_ref or (f"id {self.entity_id}" if self.entity_id is not None else "")
        return f"{verb} {self.entity_kind.replace('_', ' ')} {ref}".rstrip()

    def summary(self, limit: int = 6) -> str:
        """The changes on one line: "Status: In progress -> Completed; Completed on: (empty) -> 2025-09-30"."""
        shown = [_one_change(self.action, c) for c in self._visible()[:limit]]
        more = len(self._visible()) - limit
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")

    def _visible(self) -> list[FieldChange]:
        if self.action == "create":
            return [c for c in self.changes if c.new is not None]
        if self.action == "delete":
            return [c for c in self.changes if c.old is not None]
        return self.changes


def _value(v: Any) -> str:
    return "(empty)" if v is None or v == "" else str(v)


def _one_change(action: str, c: FieldChange) -> str:
    if action == "create":
        return f"{c.label}: {_value(c.new)}"
    if action == "delete":
        return f"{c.label}: {_value(c.old)}"
    return f"{c.label}: {_value(c.old)} {ARROW} {_value(c.new)}"


@dataclass(frozen=True)
class PersonalData:
    """How participants' personal fields are shown: hidden (the default) or, when asked for, opened with
    their keys; erased ones are marked either way. ``PersonalData.load(session, reveal=...)``."""

    secrets: dict[int, bytes]
    reveal: bool = False

    @classmethod
    def load(cls, session: Session, reveal: bool = False) -> PersonalData:
        from mou_tracker.services.personal import load_secrets

        return cls(load_secrets(session), reveal)

    def show(self, entity_id: int | None, attr: str, value: Any) -> Any:
        from mou_tracker.services.personal import ERASED, HIDDEN, is_sealed, unseal

        if value is None or value == ERASED:
            return value
        secret = self.secrets.get(entity_id) if entity_id is not None else None
        if is_sealed(value):
            if secret is None:
                return ERASED
            return unseal(secret, entity_id or 0, attr, value) if self.reveal else HIDDEN
        return value if self.reveal else HIDDEN  # a clear value of an event written before sealing


def _holds_clear_personal_data(e: AuditEvent, raw: Any) -> bool:
    from mou_tracker.services.personal import PERSONAL_FIELDS, is_sealed

    if e.entity_kind != "participant" or not isinstance(raw, dict) or e.action == "erase":
        return False
    if not str(e.entity_ref or "").startswith("P-"):
        return True
    values = [v for a in PERSONAL_FIELDS if isinstance(raw.get(a), list) for v in raw[a]]
    return any(v is not None and not is_sealed(v) for v in values)


#: what the canonical-JSON cells hold for an event written before sealing, when personal data was not asked for
WITHHELD = "[withheld: holds personal data in clear (written before sealing); export with --include-personal-data]"


def to_entry(e: AuditEvent, personal: PersonalData | None = None) -> LogEntry:
    """An event for display. Participants' personal fields are hidden unless ``personal.reveal``; an event
    written before sealing that holds them in clear also has its canonical JSON withheld then."""
    from mou_tracker.domain.identity import participant_ref
    from mou_tracker.services.personal import PERSONAL_FIELDS

    personal = personal or PersonalData({})
    try:
        raw = json.loads(e.changes)
    except ValueError:
        raw = {}
    changes = []
    ref = e.entity_ref
    raw_text = e.changes
    if e.entity_kind == "participant":
        if e.entity_id is not None and not personal.reveal:
            ref = participant_ref(e.entity_id)
        if not personal.reveal and _holds_clear_personal_data(e, raw):
            raw_text = WITHHELD
    if isinstance(raw, dict):
        for attr in sorted(raw):
            pair = raw[attr] if isinstance(raw[attr], list) and len(raw[attr]) == 2 else [None, raw[attr]]
            old, new = pair[0], pair[1]
            if e.entity_kind == "participant" and attr in PERSONAL_FIELDS and e.action != "erase":
                old, new = personal.show(e.entity_id, attr, old), personal.show(e.entity_id, attr, new)
            changes.append(FieldChange(attr, field_label(e.entity_kind, attr), old, new))
    return LogEntry(e.seq, e.occurred_at, e.actor, e.action, e.entity_kind, e.entity_id, ref,
                    e.partnership_id, changes, e.reason_category, e.reason_text, e.prev_hash, e.hash, raw_text,
                    e.login)


def query_entries(session: Session, flt: EventFilter = EventFilter(), *, after_seq: int = 0, limit: int = PAGE,
                  newest_first: bool = False, before_seq: int | None = None,
                  personal: PersonalData | None = None) -> list[LogEntry]:
    """One page of matching events (for the UI's browser: page on with ``after_seq``/``before_seq``).
    Personal fields are hidden unless ``personal`` reveals them (``PersonalData.load(session, reveal=True)``)."""
    stmt = select(AuditEvent).where(and_(AuditEvent.seq > after_seq, *flt.where()))
    if before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < before_seq)
    stmt = stmt.order_by(AuditEvent.seq.desc() if newest_first else AuditEvent.seq).limit(limit)
    personal = personal or PersonalData.load(session)
    return [to_entry(e, personal) for e in session.execute(stmt).scalars()]


def count_entries(session: Session, flt: EventFilter = EventFilter()) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent).where(and_(True, *flt.where()))).scalar_one()


def iter_entries(db: Database, flt: EventFilter = EventFilter(), *,
                 include_personal_data: bool = False) -> Iterator[LogEntry]:
    """Every matching event in sequence order, read page by page (bounded memory)."""
    last = 0
    with db.reading() as s:
        personal = PersonalData.load(s, include_personal_data)
    while True:
        with db.reading() as s:
            page = query_entries(s, flt, after_seq=last, personal=personal)
        if not page:
            return
        yield from page
        last = page[-1].seq


def record_history(session: Session, kind: str, entity_id: int, until: datetime | None = None) -> list[LogEntry]:
    """Every event about one record, oldest first (the UI's record history, a milestone's timeline)."""
    stmt = select(AuditEvent).where(AuditEvent.entity_kind == kind, AuditEvent.entity_id == entity_id)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    personal = PersonalData.load(session)
    return [to_entry(e, personal) for e in session.execute(stmt.order_by(AuditEvent.seq)).scalars()]


@dataclass(frozen=True)
class TimelineRow:
    """One field change of a record: when, who, field, old -> new, reason (the reports' Milestone history)."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    ref: str | None
    field: str
    old: Any
    new: Any
    reason: str | None


def timeline(session: Session, kind: str, partnership_id: int | None = None, entity_id: int | None = None,
             until: datetime | None = None) -> list[TimelineRow]:
    """Field-level history of every record of a kind (or one), oldest first; creations give one row."""
    stmt = select(AuditEvent).where(AuditEvent.entity_kind == kind)
    if partnership_id is not None:
        stmt = stmt.where(AuditEvent.partnership_id == partnership_id)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    rows = []
    personal = PersonalData.load(session) if kind == "participant" else PersonalData({})
    for e in session.execute(stmt.order_by(AuditEvent.seq)).scalars():
        entry = to_entry(e, personal)
        if entry.action != "update":
            rows.append(TimelineRow(e.seq, e.occurred_at, e.actor, e.action, e.entity_ref, "", None, None,
                                    entry.reason))
            continue
        rows += [TimelineRow(e.seq, e.occurred_at, e.actor, e.action, e.entity_ref, c.label, c.old, c.new,
                             entry.reason) for c in entry.changes]
    return rows


def format_entry(entry: LogEntry) -> list[str]:
    """An event as readable lines for `audit log`."""
    login = "" if not entry.login or entry.login == entry.actor else f"  (login {entry.login})"
    lines = [f"#{entry.seq}  {entry.occurred_at:%Y-%m-%d %H:%M:%S} UTC  {entry.actor}  {entry.what}{login}"]
    lines += [f"    {_one_change(entry.action, c)}" for c in entry._visible()]
    if entry.reason:
        lines.append(f"    Reason: {entry.reason}")
    return lines


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


def export_workbook(db: Database, path: Path, flt: EventFilter = EventFilter(), *,
                    progress: Callable[[int], None] | None = None, verify: bool = True,
                    include_personal_data: bool = False) -> str:
    """Write the trail (or the part ``flt`` selects) to ``path``; returns a one-line summary."""
    from openpyxl import Workbook

    from mou_tracker.db.engine import sqlite_path
    from mou_tracker.outputs import atomic_output, check_output
    from mou_tracker.services.verify import verify_chain

    db_file = sqlite_path(db.url)
    path = check_output(path, suffix=".xlsx", db_file=db_file)  # before any work: never over the database
    result = verify_chain(db) if verify else None
    wb = Workbook(write_only=True)
    about = wb.create_sheet("About")
    events = _Sheet(wb, "Events", EVENT_COLUMNS, {1: 9, 2: 20, 9: 60, 12: 30, 13: 60, 14: 66, 15: 66})
    changes = _Sheet(wb, "Changes", CHANGE_COLUMNS, {1: 9, 2: 20, 8: 30, 9: 30, 11: 40})
    count = 0
    first = last = None
    for entry in iter_entries(db, flt, include_personal_data=include_personal_data):
        raw = entry.raw_changes
        events.append([entry.seq, entry.occurred_at, entry.actor, entry.action, entry.entity_kind, entry.entity_id,
                       entry.entity_ref, entry.partnership_id, entry.summary(limit=40), entry.reason_category,
                       entry.reason_text, canonical_value(entry.occurred_at), raw[:CELL_LIMIT], entry.prev_hash,
                       entry.hash, raw[CELL_LIMIT:2 * CELL_LIMIT] or None, entry.login])
        for c in entry.changes if entry.action == "update" else ():
            changes.append([entry.seq, entry.occurred_at, entry.actor, entry.action, entry.entity_kind,
                            entry.entity_ref, c.label, _text(c.old), _text(c.new), entry.reason_category,
                            entry.reason_text])
        count += 1
        first = entry.seq if first is None else first
        last = entry.seq
        if progress is not None and count % 1000 == 0:
            progress(1000)
    events.close()
    changes.close()
    _signoff_sheets(db, wb, flt)
    _about(about, db, flt, count, first, last, result)
    try:
        with atomic_output(path, suffix=".xlsx", db_file=db_file) as tmp:
            wb.save(tmp)
    except OSError as exc:
        raise MouError(f"cannot write {path}: {exc.strerror or exc}") from exc
    verdict = "" if result is None else (
        "; chain verified OK" if result.ok
        else f"; VERIFICATION FAILED ({len(result.findings)} findings, see the About sheet)")
    return f"Exported {count} audit events to {path}{verdict}"


def _text(value: Any) -> Any:
    return None if value is None else value if isinstance(value, str | int) and not isinstance(value, bool) \
        else str(value)


def _signoff_sheets(db: Database, wb: Any, flt: EventFilter) -> None:
    pid = flt.partnership_id
    with db.reading() as s:
        sheet = _Sheet(wb, "Sign-offs", ("Period", "Party", "Signed by", "Signed at (UTC)", "Comment",
                                         "Chain seq", "Chain head"), {5: 40, 7: 66})
        signoffs = select(PeriodSignoff).order_by(PeriodSignoff.period, PeriodSignoff.signed_at)
        if pid is not None:
            signoffs = signoffs.where(PeriodSignoff.partnership_id == pid)
        for x in s.execute(signoffs).scalars():
            sheet.append([x.period, x.party.upper(), x.actor, x.signed_at, x.comment, x.chain_seq, x.chain_head])
        sheet.close()
        sheet = _Sheet(wb, "Locks", ("Period", "Locked at (UTC)", "Locked by", "Reason"), {4: 60})
        locks = select(PeriodLock).order_by(PeriodLock.period)
        if pid is not None:
            locks = locks.where(PeriodLock.partnership_id == pid)
        for lock in s.execute(locks).scalars():
            sheet.append([lock.period, lock.locked_at, lock.actor, lock.reason])
        sheet.close()
        sheet = _Sheet(wb, "Restatements", ("Indicator", "Period", "Reported value", "Restated value", "When (UTC)",
                                            "Who", "Reason category", "Reason text", "Event seq"), {8: 50})
        restated = select(Restatement).order_by(Restatement.at, Restatement.id)
        if pid is not None:
            restated = restated.where(Restatement.partnership_id == pid)
        for r in s.execute(restated).scalars():
            sheet.append([r.indicator_code, r.period, r.reported_value, r.restated_value, r.at, r.actor,
                          r.reason_category, r.reason_text, r.event_seq])
        sheet.close()


def _about(ws: Any, db: Database, flt: EventFilter, count: int, first: int | None, last: int | None,
           result: Any) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    from mou_tracker.db.engine import sqlite_path

    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    where = sqlite_path(db.url) or db.engine.url.render_as_string(hide_password=True)
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
