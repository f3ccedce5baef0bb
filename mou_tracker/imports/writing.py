"""Writing a checked workbook through the service layer, inside the caller's one transaction.

Import is the one place where a write may update by ID (docs/reference/import-format.md): each row is
compared with the record it names (by ID, or by the keys that page gives) before anything is called, and the
row then becomes a
``create_*`` (no such record) or an ``update_*`` (one that differs) - or nothing at all when it is unchanged,
so re-importing a file writes no audit event. Brand-new trainings, participants and attendances - the bulk of a
register, 200,000 rows in the benchmark - go through the service layer's batch path (``Services.bulk_insert``:
one audit event per record, executemany batches), after the same field checks as every other row (see
``checking``). A service's refusal becomes a problem on the row's cell; the caller rolls the whole transaction
back when there is any.

People are resolved once per file (docs/reference/import-format.md): a person keeps the name recorded first
(another spelling is attached to them and noted), and their sex, agency and role follow their last row in the
file, compared once with what is stored; each such change is listed for that person.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import NullType

from mou_tracker.db.models import (
    Attendance,
    BudgetLine,
    Disbursement,
    Engagement,
    Expenditure,
    Grant,
    Indicator,
    Milestone,
    Participant,
    Result,
    Target,
    Training,
)
from mou_tracker.domain.identity import normalise_staff_number, participant_ref
from mou_tracker.errors import ReasonRequired, ValidationError
from mou_tracker.imports import funder_sheets
from mou_tracker.imports import sheets as S
from mou_tracker.imports.checking import CheckedWorkbook, Problems, Progress, Row, SheetInput, fold_id, shown_id
from mou_tracker.imports.outcome import FigureMove, IndicatorMove, RowChange, SheetSummary
from mou_tracker.services.audit import remembered
from mou_tracker.services.indicators import IndicatorEngine, IndicatorSeries
from mou_tracker.services.programme import SaveResult, Services
from mou_tracker.services.trainings import attendance_ref, one_spacing

#: rows per ``bulk_insert`` call (bounds the memory the audit events of one batch take)
BATCH = 5_000
#: IN (...) lists are split into chunks of this many values
CHUNK = 900
#: batch-written records above which PostgreSQL is asked to refresh its planner statistics
ANALYZE_ABOVE = 10_000
#: rows of a register between two progress reports
TICK_EVERY = 2_000
#: notes of one kind (spellings kept) listed one by one; the rest are counted
NOTES_LISTED = 20


def _attrs(spec: S.SheetSpec) -> list[str]:
    return [f.attr for f in spec.fields if f.attr not in ("reason", "grant_code")]


@dataclass(slots=True)
class _Person:
    id: int | None
    name: str
    sex: str
    agency: str
    role: str | None
    staff_number: str | None


class Writer:
    """Applies the rows of a ``CheckedWorkbook`` and counts, per sheet, what each row did."""

    def __init__(self, services: Services, session: Session, book: CheckedWorkbook, problems: Problems,
                 progress: Progress, notes: list[str] | None = None, *, dry_run: bool = False,
                 before_writing: Callable[[], None] | None = None) -> None:
        self.services = services
        #: called once, just before the first write (an unchanged re-import never calls it)
        self._before_writing = before_writing
        #: a dry run's transaction is rolled back: the bulk path skips the events nobody would read
        self.audit = not dry_run
        self.session = session
        self.book = book
        self.problems = problems
        self.progress = progress
        self.pid = services.partnership_id
        self._total = sum(len(s.rows) for s in book.sheets.values()) or 1
        self._done = 0
        self._bulk_rows = 0
        #: what the service layer adjusted or kept on the way, for the import's notes
        self.notes: list[str] = notes if notes is not None else []

    # Driver --------------------------------------------------------------------------------------------------------
    def run(self) -> list[SheetSummary]:
        steps: list[tuple[S.SheetSpec, Callable[[SheetInput, SheetSummary], None]]] = [
            (S.GRANT, self.grants), (S.BUDGET, self.budget), (S.TRAININGS, self.trainings),
            (S.PARTICIPANTS, self.participants), (S.ENGAGEMENTS, self.engagements),
            (S.MILESTONES, self.milestones), (S.DISBURSEMENTS, self.disbursements),
            (S.EXPENDITURES, self.expenditures), (S.TARGETS, self.targets), (S.RESULTS, self.results),
            *funder_sheets.steps(self)]
        done: dict[str, SheetSummary] = {}
        for spec, step in steps:
            sheet = self.book.get(spec)
            if sheet is None or not sheet.usable:
                continue
            summary = SheetSummary(sheet.name)
            done[spec.name] = summary
            if sheet.rows:
                step(sheet, summary)
        # report the sheets in the workbook's own order
        by_tab = {self.book.sheets[name].name: s for name, s in done.items()}
        return [by_tab[t] for t in self.book.order if t in by_tab]

    def refresh_statistics(self) -> None:
        """After a large batch, let PostgreSQL's planner see the new rows before the indicators are recomputed
        in the same transaction: tables it believes empty get nested-loop plans that take minutes on 200,000
        attendances. ANALYZE is transactional (a dry run's rollback undoes it) and writes no record."""
        if self._bulk_rows >= ANALYZE_ABOVE and self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("ANALYZE training, participant, attendance"))

    def _tick(self, sheet: SheetInput, n: int = 1) -> None:
        before = self._done * 50 // self._total
        self._done += n
        if self._done * 50 // self._total != before:
            self.progress(f"Writing {sheet.name}", 0.4 + 0.5 * min(self._done / self._total, 1.0))

    def _call(self, sheet: SheetInput, row: Row, save: Callable[[], SaveResult]) -> SaveResult | None:
        """One service call; its refusal becomes problems on the row's cells."""
        self._first_write()
        try:
            result = save()
        except ValidationError as exc:
            for p in exc.problems:
                sheet.report_problem(self.problems, row, p, reason_needed=isinstance(exc, ReasonRequired))
            return None
        self.notes += [f"{sheet.where(row.number)}: {note}" for note in result.notes]
        return result

    def _bulk(self, kind: str, model: Any, rows: list[dict[str, Any]], ref: str | None, sheet: SheetInput,
              ref_of: Callable[[int, dict[str, Any]], str] | None = None) -> list[int]:
        ids: list[int] = []
        if rows:
            self._first_write()
        for i in range(0, len(rows), BATCH):
            batch = rows[i:i + BATCH]
            ids += self.services.bulk_insert(kind, model, batch, ref_attr=ref, ref_of=ref_of, audit=self.audit)
            self._bulk_rows += len(batch)
            self.progress(f"Writing {sheet.name}", 0.4 + 0.5 * min(self._done / self._total, 1.0))
        return ids

    def _first_write(self) -> None:
        if self._before_writing is not None:
            before, self._before_writing = self._before_writing, None
            before()

    def _load(self, stmt: Any, keys: int, attrs: list[str]) -> dict[Hashable, dict[str, Any]]:
        out: dict[Hashable, dict[str, Any]] = {}
        for found in self.session.connection().execute(stmt):  # Core: plain rows, no ORM row handling
            key = found[0] if keys == 1 else tuple(found[:keys])
            out[key] = dict(zip(attrs, found[keys:], strict=True))
        return out

    # The generic path: compare with the current record, then call the service for what changes ---------------
    def _upsert(self, sheet: SheetInput, summary: SheetSummary, current: dict[Hashable, dict[str, Any]],
                rows: Iterable[Row], key_of: Callable[[Row], Hashable], key_attr: str,
                save: Callable[[dict[str, Any], Row, dict[str, Any] | None], SaveResult],
                ref_of: Callable[[Row], str]) -> None:
        """The explicit upsert: ``save(values, row, current)`` creates when ``current`` is None, else updates."""
        attrs = _attrs(sheet.spec)
        for row in rows:
            key = key_of(row)
            cur = current.get(key)
            full = {a: row.values.get(a) if sheet.has(a) else (cur or {}).get(a) for a in attrs}
            diff = {} if cur is None else {a: (cur.get(a), full[a]) for a in attrs if cur.get(a) != full[a]}
            self._tick(sheet)
            if cur is not None and not diff:
                summary.count("unchanged")
                continue
            result = self._call(sheet, row, lambda: save(full, row, cur))  # noqa: B023 - called at once
            if result is None:
                continue
            current[key] = full
            summary.count(result.action, sheet.where(row.number, key_attr), ref_of(row),
                          {sheet.spec.label_of(a): v for a, v in diff.items()})

    def _case_variants(self, sheet: SheetInput, current: dict[Hashable, Any],
                       key_of: Callable[[Row], Hashable]) -> list[Row]:
        """The sheet's rows; an ID that differs from a stored one, or from an earlier row's, only in capitals is
        noted: IDs are compared exactly, so it makes a record of its own, which is more often a slip of the
        keyboard than meant (the dry run shows the note before anything is written)."""
        rows = list(sheet.ok_rows())
        first: dict[Hashable, tuple[Hashable, int | None]] = {}
        for key in current:
            first.setdefault(fold_id(key), (key, None))
        variants: list[str] = []
        for row in rows:
            key = key_of(row)
            other, number = first.setdefault(fold_id(key), (key, row.number))
            if other != key and key not in current:
                there = "a stored record" if number is None else f"row {number}"
                variants.append(f"{sheet.where(row.number, 'code')}: the ID '{shown_id(key)}' differs from "
                                f"'{shown_id(other)}' ({there}) only in capitals; IDs are compared exactly, so it "
                                "makes a new record")
        self.notes.extend(variants[:NOTES_LISTED])
        if len(variants) > NOTES_LISTED:
            self.notes.append(f"{sheet.name}: {len(variants) - NOTES_LISTED:,} more IDs differ from another only "
                              "in capitals")
        return rows

    def _by_code(self, sheet: SheetInput, summary: SheetSummary, model: Any, create: Callable[..., SaveResult],
                 update: Callable[..., SaveResult]) -> None:
        """A record of the partnership found by its own code (grants, engagements, milestones)."""
        attrs = _attrs(sheet.spec)
        current = self._load(select(model.code, *(getattr(model, a) for a in attrs))
                             .where(model.partnership_id == self.pid), 1, attrs)
        rows = self._case_variants(sheet, current, _code)
        self._upsert(sheet, summary, current, rows, _code, "code",
                     lambda v, r, cur: create(v, reason=r.reason) if cur is None
                     else update(v["code"], v, reason=r.reason), _code)

    def grants(self, sheet: SheetInput, summary: SheetSummary) -> None:
        self._by_code(sheet, summary, Grant, self.services.create_grant, self.services.update_grant)

    def engagements(self, sheet: SheetInput, summary: SheetSummary) -> None:
        self._by_code(sheet, summary, Engagement, self.services.create_engagement, self.services.update_engagement)

    def milestones(self, sheet: SheetInput, summary: SheetSummary) -> None:
        self._by_code(sheet, summary, Milestone, self.services.create_milestone, self.services.update_milestone)

    def budget(self, sheet: SheetInput, summary: SheetSummary) -> None:
        attrs = _attrs(sheet.spec)
        current = self._load(select(Grant.code, BudgetLine.code, *(getattr(BudgetLine, a) for a in attrs))
                             .join(BudgetLine, BudgetLine.grant_id == Grant.id)
                             .where(Grant.partnership_id == self.pid), 2, attrs)
        rows = self._case_variants(sheet, current, _grant_code)
        self._upsert(sheet, summary, current, rows, _grant_code, "code",
                     lambda v, r, cur: self.services.create_budget_line(v, grant_code=r.grant, reason=r.reason)
                     if cur is None else self.services.update_budget_line(v["code"], v, grant_code=r.grant,
                                                                          reason=r.reason), _code)

    def expenditures(self, sheet: SheetInput, summary: SheetSummary) -> None:
        attrs = _attrs(sheet.spec)
        line, training, engagement = aliased(BudgetLine), aliased(Training), aliased(Engagement)
        columns = {"line_code": line.code, "training_code": training.code, "engagement_code": engagement.code}
        stmt = (select(Grant.code, Expenditure.code, *(columns.get(a, getattr(Expenditure, a, None)) for a in attrs))
                .join(Expenditure, Expenditure.grant_id == Grant.id)
                .join(line, line.id == Expenditure.budget_line_id)
                .outerjoin(training, training.id == Expenditure.training_id)
                .outerjoin(engagement, engagement.id == Expenditure.engagement_id)
                .where(Grant.partnership_id == self.pid))
        current = self._load(stmt, 2, attrs)
        rows = self._case_variants(sheet, current, _grant_code)
        self._upsert(sheet, summary, current, rows, _grant_code, "code",
                     lambda v, r, cur: self.services.create_expenditure(v, grant_code=r.grant, reason=r.reason)
                     if cur is None else self.services.update_expenditure(v["code"], v, grant_code=r.grant,
                                                                          reason=r.reason), _code)

    def _keyed(self, model: Any, attrs: list[str]) -> dict[Hashable, dict[str, Any]]:
        stmt = (select(Indicator.code, model.period, *(getattr(model, a) for a in attrs if hasattr(model, a)))
                .join(model, model.indicator_id == Indicator.id).where(Indicator.partnership_id == self.pid))
        out: dict[Hashable, dict[str, Any]] = {}
        for found in self.session.execute(stmt):
            values = dict(zip([a for a in attrs if hasattr(model, a)], found[2:], strict=True))
            out[(found[0], found[1])] = {"indicator_code": found[0], **values}
        return out

    def targets(self, sheet: SheetInput, summary: SheetSummary) -> None:
        current = self._keyed(Target, _attrs(sheet.spec))
        self._upsert(sheet, summary, current, sheet.ok_rows(), _indicator_period, "value",
                     lambda v, r, _cur: self.services.set_target(v["indicator_code"], v["period"], v["value"],
                                                           reason=r.reason),
                     lambda r: f"{r.get('indicator_code')}@{r.get('period')}")

    def results(self, sheet: SheetInput, summary: SheetSummary) -> None:
        current = self._keyed(Result, _attrs(sheet.spec))
        self._upsert(sheet, summary, current, sheet.ok_rows(), _indicator_period, "value",
                     lambda v, r, _cur: self.services.set_result(v["indicator_code"], v["period"], v["value"],
                                                           v["source"], reason=r.reason),
                     lambda r: f"{r.get('indicator_code')}@{r.get('period')}")

    def disbursements(self, sheet: SheetInput, summary: SheetSummary) -> None:
        """Disbursements have no ID: a row with a Reference is the disbursement with that reference; a row
        without one is an unreferenced disbursement of the same date, amount and currency (so re-importing
        it changes nothing), else a new one."""
        attrs = _attrs(sheet.spec)
        by_ref: dict[Hashable, dict[str, Any]] = {}
        unreferenced: dict[Hashable, list[dict[str, Any]]] = {}
        stmt = (select(Grant.code, Disbursement.id, *(getattr(Disbursement, a) for a in attrs))
                .join(Disbursement, Disbursement.grant_id == Grant.id).where(Grant.partnership_id == self.pid)
                .order_by(Disbursement.id))
        for found in self.session.execute(stmt):
            values = dict(zip(["id", *attrs], found[1:], strict=True))
            if values["reference"]:
                by_ref[(found[0], values["reference"])] = values
            else:
                unreferenced.setdefault((found[0], values["date"], values["amount"], values["currency"]),
                                        []).append(values)
        matched: dict[Hashable, dict[str, Any]] = {}
        for row in sheet.ok_rows():
            if row.get("reference"):
                cur = by_ref.get((row.grant, row.get("reference")))
            else:
                pool = unreferenced.get((row.grant, row.get("date"), row.get("amount"), row.get("currency")), [])
                cur = pool.pop(0) if pool else None
            if cur is not None:
                matched[id(row)] = cur

        def save(values: dict[str, Any], row: Row, cur: dict[str, Any] | None) -> SaveResult:
            if cur is None:
                return self.services.create_disbursement(values, grant_code=row.grant, reason=row.reason)
            return self.services.update_disbursement(cur["id"], values, grant_code=row.grant, reason=row.reason)

        self._upsert(sheet, summary, matched, sheet.ok_rows(), lambda r: id(r), "date", save,
                     lambda r: r.get("reference") or f"{r.get('date')} {r.get('amount')} {r.get('currency')}")

    # Trainings and participants: the bulk of a register ---------------------------------------------------------
    def trainings(self, sheet: SheetInput, summary: SheetSummary) -> None:
        attrs = _attrs(sheet.spec)
        current = self._load(select(Training.code, *(getattr(Training, a) for a in attrs))
                             .where(Training.partnership_id == self.pid), 1, attrs)
        rows = self._case_variants(sheet, current, _code)
        new = [r for r in rows if r.get("code") not in current and r.reason is None]
        self._upsert(sheet, summary, current, [r for r in rows if r.get("code") in current or r.reason is not None],
                     _code, "code", lambda v, r, cur: self.services.create_training(v, reason=r.reason)
                     if cur is None else self.services.update_training(v["code"], v, reason=r.reason), _code)
        for _row in new:
            summary.count("created")
        self._tick(sheet, len(new))
        self._bulk("training", Training, [{"partnership_id": self.pid, **{a: r.values.get(a) for a in attrs}}
                                          for r in new], "code", sheet)

    def participants(self, sheet: SheetInput, summary: SheetSummary) -> None:
        rows = list(sheet.ok_rows())
        s = self.session
        trainings = dict(s.execute(select(Training.code, Training.id).where(Training.partnership_id == self.pid))
                         .all())
        code_of = {tid: code for code, tid in trainings.items()}
        people: dict[str, _Person] = {}
        for found in s.connection().execute(
                select(Participant.id, Participant.key, Participant.name, Participant.sex, Participant.agency,
                       Participant.role, Participant.staff_number).where(Participant.partnership_id == self.pid)):
            people[found[1]] = _Person(found[0], *found[2:])
        attended: dict[tuple[int, int], tuple[Any, Any]] = {}
        file_tids = sorted({trainings[c] for r in rows if (c := r.values["training_code"]) in trainings})
        # a re-import compares every row with its attendance: read them through Core with the scores raw, each
        # distinct stored score converted once (the ORM's row handling and a Decimal per value took seconds)
        conn = s.connection()
        score_type, dialect = Attendance.__table__.c.pre_score.type, conn.dialect
        score = remembered(lambda value: score_type.process_result_value(value, dialect))
        raw_pre = type_coerce(Attendance.pre_score, NullType())
        raw_post = type_coerce(Attendance.post_score, NullType())
        for i in range(0, len(file_tids), CHUNK):
            for training_id, who, pre, post in conn.execute(
                    select(Attendance.training_id, Attendance.participant_id, raw_pre, raw_post)
                    .where(Attendance.training_id.in_(file_tids[i:i + CHUNK]))):
                attended[(training_id, who)] = (score(pre), score(post))

        usable: list[tuple[Row, int]] = []
        for row in rows:
            tid = trainings.get(row.values["training_code"])
            if row.person is None or tid is None:  # its training's own row was refused while writing
                self._tick(sheet)
                sheet.report(self.problems, row, "training_code",
                             f"Training ID: no training '{row.values['training_code']}' (its row has a problem)")
                continue
            usable.append((row, tid))
        # Each person once per file: sex, agency and role from their last row (a blank Role keeps the role)
        final: dict[str, dict[str, Any]] = {}
        last_row: dict[str, Row] = {}
        for row, _tid in usable:
            d = row.values
            person_final = final.setdefault(row.person, {"role": None})  # type: ignore[arg-type]
            person_final.update(sex=d["sex"], agency=d["agency"])
            if d.get("role"):
                person_final["role"] = d["role"]
            last_row[row.person] = row  # type: ignore[index]
        # ... compared once with what is stored: one explicit edit of the person, listed on their last row
        person_changes: dict[str, dict[str, tuple[Any, Any]]] = {}
        for key, attrs in final.items():
            person = people.get(key)
            if person is None:
                continue
            diff = {a: (getattr(person, a), v) for a, v in attrs.items()
                    if (v is not None or a != "role") and getattr(person, a) != v}
            if not diff:
                continue
            row = last_row[key]
            assert person.id is not None
            pid_ = person.id
            result = self._call(sheet, row, lambda: self.services.update_participant(  # noqa: B023
                pid_, {a: new for a, (_old, new) in diff.items()}, row.reason))  # noqa: B023
            if result is None:
                continue
            _apply(person, diff)
            person_changes[key] = diff

        spellings: list[str] = []
        seen_spelling: set[tuple[str, str]] = set()
        fresh: dict[str, _Person] = {}  # people this file adds
        first_row: dict[str, int] = {}
        pending: list[tuple[str, int, Any, Any]] = []  # (person key, training id, pre, post) of new attendances
        has_pre, has_post = sheet.has("pre_score"), sheet.has("post_score")
        spaced: dict[str, str] = {}  # each distinct name's one-spaced form, made once
        created = unchanged = 0  # the common outcomes, counted here and added to the summary at the end
        for j, (row, tid) in enumerate(usable):
            if not j % TICK_EVERY:
                self._tick(sheet, min(TICK_EVERY, len(usable) - j))
            d = row.values
            key: str = row.person  # type: ignore[assignment]
            person = people.get(key)
            name = d["name"]
            given = spaced.get(name)
            if given is None:
                given = spaced[name] = one_spacing(name)
            if person is None:
                attrs = final[key]
                person = _Person(None, given, attrs["sex"], attrs["agency"], attrs["role"],
                                 normalise_staff_number(d.get("staff_number")))
                people[key] = fresh[key] = person
                first_row[key] = row.number
            elif given != person.name and (key, given) not in seen_spelling:
                seen_spelling.add((key, given))
                if person.id is not None:
                    spellings.append(f"{sheet.where(row.number, 'name')}: '{given}' is participant "
                                     f"{participant_ref(person.id)}, recorded as '{person.name}'; the recorded name "
                                     "is kept")
                else:
                    spellings.append(f"{sheet.where(row.number, 'name')}: '{given}' is the same person as row "
                                     f"{first_row[key]} ('{person.name}'); that name is kept")
            changed_person = person_changes.pop(key, {}) if row is last_row[key] else {}
            if person.id is None:  # new with this file: its attendances go in with it
                pending.append((key, tid, d.get("pre_score"), d.get("post_score")))
                created += 1
                continue
            att = attended.get((tid, person.id))
            pre = d.get("pre_score") if has_pre else (att[0] if att else None)
            post = d.get("post_score") if has_post else (att[1] if att else None)
            if att is not None and not changed_person and att[0] == pre and att[1] == post:
                unchanged += 1  # the common case of a re-import: nothing to build
                continue
            scores = {"pre_score": pre, "post_score": post}
            where = sheet.where(row.number, "name")
            if att is None:
                if row.reason is None:
                    pending.append((key, tid, pre, post))
                    summary.count("created")
                else:
                    values = {"training_code": d["training_code"], "name": d["name"], "sex": d["sex"],
                              "agency": d["agency"], "role": d.get("role"), "staff_number": d.get("staff_number"),
                              **scores}
                    if self._call(sheet, row, lambda: self.services.add_attendance(values, row.reason)):  # noqa: B023
                        attended[(tid, person.id)] = (pre, post)
                        summary.count("created")
                if changed_person:  # listed even though the row itself adds an attendance
                    summary.changes.append(RowChange(where, participant_ref(person.id),
                                                     {sheet.spec.label_of(a): v for a, v in changed_person.items()}))
                    summary.fields.update(sheet.spec.label_of(a) for a in changed_person)
                continue
            att_diff = {a: (att[i], scores[a]) for i, a in enumerate(("pre_score", "post_score"))
                        if att[i] != scores[a]}
            if att_diff:
                pid_ = person.id
                result = self._call(sheet, row, lambda: self.services.update_attendance(  # noqa: B023
                    d["training_code"], pid_, {a: new for a, (_old, new) in att_diff.items()},  # noqa: B023
                    row.reason))  # noqa: B023
                if result is None:
                    continue
                attended[(tid, person.id)] = (pre, post)
            changed = {**changed_person, **att_diff}
            ref = attendance_ref(d["training_code"], person.id) if att_diff else participant_ref(person.id)
            summary.count("updated", where, ref, {sheet.spec.label_of(a): v for a, v in changed.items()})
        summary.new += created
        summary.unchanged += unchanged
        if spellings:
            self.notes += spellings[:NOTES_LISTED]
            if len(spellings) > NOTES_LISTED:
                self.notes.append(f"Participants: {len(spellings) - NOTES_LISTED:,} more names spelled differently "
                                  "from the recorded ones were attached to those people; the recorded names are kept")

        keys = list(fresh)
        ids = self._bulk("participant", Participant, [
            {"partnership_id": self.pid, "key": k, "name": p.name, "sex": p.sex, "agency": p.agency, "role": p.role,
             "staff_number": p.staff_number} for k, p in ((k, fresh[k]) for k in keys)], None, sheet,
            ref_of=lambda oid, _row: participant_ref(oid))
        for k, new_id in zip(keys, ids, strict=True):
            fresh[k].id = new_id
        self._bulk("attendance", Attendance, [
            {"training_id": tid, "participant_id": people[k].id, "pre_score": pre, "post_score": post}
            for k, tid, pre, post in pending], None, sheet,
            ref_of=lambda _oid, r: attendance_ref(code_of[r["training_id"]], r["participant_id"]))


def _code(row: Row) -> Any:
    return row.get("code")


def _indicator_period(row: Row) -> Hashable:
    return (row.get("indicator_code"), row.get("period"))


def _grant_code(row: Row) -> Hashable:
    return (row.grant, row.get("code"))


def _apply(person: _Person, diff: dict[str, tuple[Any, Any]]) -> None:
    for attr, (_old, new) in diff.items():
        setattr(person, attr, new)


# Indicator movement -------------------------------------------------------------------------------------------
def indicator_series(session: Session, pid: int) -> list[IndicatorSeries]:
    return IndicatorEngine(session, pid).series()


def movements(before: list[IndicatorSeries], after: list[IndicatorSeries]) -> list[IndicatorMove]:
    """Per indicator, the quarters whose actual or target changes, and the cumulative actual to date."""
    old = {s.indicator.id: s for s in before}
    out = []
    for new in after:
        prev = old.get(new.indicator.id)
        if prev is None:
            continue
        quarters = sorted(set(prev.actuals) | set(prev.targets) | set(new.actuals) | set(new.targets))
        if not quarters:
            continue
        moves = []
        for q in quarters:
            a, b = prev.figures(q), new.figures(q)
            if a.period_actual != b.period_actual:
                moves.append(FigureMove(str(q), "actual", a.period_actual, b.period_actual))
            if a.period_target != b.period_target:
                moves.append(FigureMove(str(q), "target", a.period_target, b.period_target))
        last = quarters[-1]
        cum_before, cum_after = prev.figures(last).cumulative_actual, new.figures(last).cumulative_actual
        if moves or cum_before != cum_after:
            ind = new.indicator
            out.append(IndicatorMove(ind.code, ind.name, ind.unit, tuple(moves), str(last), cum_before, cum_after))
    return out
