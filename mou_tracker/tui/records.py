"""Declarative record screens: one ``RecordKind`` per kind of record says how the UI shows it, adds, edits and
deletes it (its fields, titles, notes, the service call behind each action); ``RecordActions`` gives a screen
the `a` / `e` / `x` actions for whatever kind its current table holds. No screen writes its own action set
(docs/reference/tui.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mou_tracker.services.audit import Reason
from mou_tracker.services.fields import Field
from mou_tracker.tui.forms import Preview, form_fields
from mou_tracker.tui.screens.base import add_form, open_detail, open_form, run_edit

R = TypeVar("R")
#: (screen, values, reason) -> the service's result
Create = Callable[[Any, dict[str, Any], Reason | None], Any]
#: (screen, row, values, reason) -> the service's result
Update = Callable[[Any, Any, dict[str, Any], Reason | None], Any]


def _row_values(screen: Any, row: Any) -> dict[str, Any]:
    return dict(row.values())


@dataclass(frozen=True)
class RecordKind(Generic[R]):
    """How the UI handles one kind of record. Every callable takes the screen first (for its services and
    context: the grant a budget line belongs to, the training an attendance is of)."""

    #: what a person calls one ("engagement"); the delete prompt and the default titles use it
    noun: str
    fields: Sequence[Field]
    #: the row's ID as the user knows it (TS-001), for titles
    code: Callable[[R], Any]
    add_title: str = ""
    create: Create | None = None
    update: Update | None = None
    #: (screen, row, reason); None: this kind is not deleted from the UI (a budget line)
    delete: Callable[[Any, R, Reason], Any] | None = None
    #: the delete prompt's line about the record
    describe: Callable[[R], str] = lambda row: ""
    #: the form's values for a row
    values: Callable[[Any, R], dict[str, Any]] = _row_values
    defaults: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    edit_note: str = ""
    #: fields the form leaves out (given by the screen, e.g. the training of an attendance)
    skip: tuple[str, ...] = ()
    #: fields shown but not editable once the record exists
    locked: tuple[str, ...] = ("code",)
    #: a line computed as the user types (screen -> preview), e.g. a converted amount
    preview: Callable[[Any], Preview | None] | None = None
    #: a lookup shown as the user types in an Add form (screen -> lookup), e.g. a recognised participant
    lookup: Callable[[Any], Preview | None] | None = None
    #: the detail's rows (default: each field's label and value)
    detail: Callable[[Any, R], list[tuple[str, Any]]] | None = None
    #: the edit form's title, (screen, row) -> title (default "Edit <noun> <code>")
    edit_title: Callable[[Any, R], str] | None = None

    def name(self, row: R) -> str:
        return f"{self.noun} {self.code(row)}".strip()

    def title_for_edit(self, screen: Any, row: R) -> str:
        return self.edit_title(screen, row) if self.edit_title else f"Edit {self.name(row)}"

    def detail_rows(self, screen: Any, row: R) -> list[tuple[str, Any]]:
        if self.detail is not None:
            return self.detail(screen, row)
        values = self.values(screen, row)
        return [(f.label, values.get(f.attr)) for f in self.fields if f.attr not in self.skip]


async def add(screen: Any, kind: RecordKind[Any], *, open_existing: Callable[[str], Awaitable[Any]] | None = None,
              note: str | None = None) -> Any:
    """The kind's Add form (the service's create_*, which refuses an ID that exists); its result or None."""
    assert kind.create is not None
    create = kind.create
    return await add_form(screen, kind.add_title, form_fields(screen.ctx.services.local(kind.fields), skip=kind.skip),
                          dict(kind.defaults),
                          lambda v, r: create(screen, v, r), open_existing=open_existing,
                          note=kind.note if note is None else note,
                          preview=kind.preview(screen) if kind.preview else None,
                          lookup=kind.lookup(screen) if kind.lookup else None)


async def edit(screen: Any, kind: RecordKind[R], row: R) -> bool:
    """The kind's Edit form for ``row``; True when saved (the screen's data is then reloaded)."""
    assert kind.update is not None
    update = kind.update
    result = await open_form(screen, kind.title_for_edit(screen, row), form_fields(
                                 screen.ctx.services.local(kind.fields), skip=kind.skip, locked=kind.locked),
                             kind.values(screen, row), lambda v, r: update(screen, row, v, r),
                             note=kind.edit_note or kind.note, preview=kind.preview(screen) if kind.preview else None)
    if result is not None:
        screen.refresh_data()
    return result is not None


async def delete(screen: Any, kind: RecordKind[R], row: R) -> bool:
    """Confirm, ask the reason, delete; True when deleted (the screen's data is then reloaded)."""
    assert kind.delete is not None
    remove = kind.delete
    done = bool(await screen.mou.confirm_delete(kind.name(row), kind.describe(row),
                                                lambda reason: remove(screen, row, reason)))
    if done:
        screen.refresh_data()
    return done


async def show(screen: Any, kind: RecordKind[R], row: R) -> None:
    """The record's detail, offering Edit and (where the kind is deleted here) Delete."""
    choice = await open_detail(screen, kind.name(row)[:1].upper() + kind.name(row)[1:],
                               kind.detail_rows(screen, row), edit=kind.update is not None,
                               delete=kind.delete is not None)
    if choice == "edit":
        await edit(screen, kind, row)
    elif choice == "delete":
        await delete(screen, kind, row)


class RecordActions:
    """The `add_record` / `edit_record` / `delete_record` actions of a record screen (its BINDINGS name them,
    with its own tooltips), for the kind its current table holds. Mixed into a ``MouScreen``."""

    #: the kind of the screen's table (screens with several tables override ``record_kind``)
    KIND: RecordKind[Any] | None = None

    def record_kind(self) -> RecordKind[Any] | None:
        return self.KIND

    def current_row(self) -> Any:
        return self.table.current  # type: ignore[attr-defined]

    async def open_existing(self, code: str) -> None:
        """Open the record an Add was refused for (its ID exists); screens that can find it override this."""

    async def added(self, result: Any) -> None:
        """After an Add saved ``result`` (the data is already reloaded)."""

    def action_add_record(self) -> None:
        kind = self.record_kind()
        if kind is None or kind.create is None:
            return

        async def flow() -> None:
            result = await add(self, kind, open_existing=self.open_existing)
            if result is not None:
                self.refresh_data()  # type: ignore[attr-defined]
                await self.added(result)

        run_edit(self, flow)  # type: ignore[arg-type]

    def action_edit_record(self) -> None:
        kind, row = self.record_kind(), self.current_row()
        if kind is not None and kind.update is not None and row is not None:
            run_edit(self, lambda: edit(self, kind, row))  # type: ignore[arg-type]

    def action_delete_record(self) -> None:
        kind, row = self.record_kind(), self.current_row()
        if kind is not None and kind.delete is not None and row is not None:
            run_edit(self, lambda: delete(self, kind, row))  # type: ignore[arg-type]

    def record_action_allowed(self, action: str) -> bool:
        """False for a record action the current kind does not have (its key is then not shown at all)."""
        kind = self.record_kind()
        if action == "delete_record":
            return kind is not None and kind.delete is not None
        if action == "edit_record":
            return kind is not None and kind.update is not None
        return True
