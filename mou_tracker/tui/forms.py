"""Modal forms: add/edit a record, give a reason, confirm a delete, read a record's detail.

Forms are built from the service layer's own field definitions (``services.fields.Field``), so a field is
labelled, checked and explained exactly as the import and the CLI do it. A field is checked when it loses
focus; the whole record is checked by the service layer on save, and every problem is shown under its
field at once. Nothing typed is lost or altered silently: a field opened for editing has its value selected
(typing replaces it rather than adding to it), ctrl+s saves in every dialog, and Escape closes an unchanged
dialog at once but asks first when something was changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from mou_tracker.domain.codes import KENYA_COUNTIES, REASON_CATEGORIES
from mou_tracker.domain.money import convert, to_decimal
from mou_tracker.errors import AlreadyExists, MouError, ValidationError
from mou_tracker.services.audit import Reason
from mou_tracker.services.fields import Field
from mou_tracker.tui import format as fmt

T = TypeVar("T")
#: how a form saves: ``write(call)`` runs ``call(reason)`` (a service-layer write) off the UI thread, asking
#: for a reason when the audit trail needs one; it raises MouError to show (the app's ``write``)
Write = Callable[[Callable[[Reason | None], Any]], Awaitable[Any]]
GENERAL = "__general__"
PLACEHOLDERS = {"date": "YYYY-MM-DD", "period": "YYYY-Qn, e.g. 2025-Q3", "currency": "e.g. USD, KES",
                "county": "one of Kenya's 47 counties (→ completes)", "area": "district, province or county"}


@dataclass(frozen=True)
class FormField:
    """One input of a form. ``field`` is the service layer's definition (parsing, label, vocabulary)."""

    field: Field
    locked: bool = False
    hint: str = ""

    @property
    def attr(self) -> str:
        return self.field.attr

    @property
    def label(self) -> str:
        return self.field.label


def form_fields(fields: Sequence[Field], *, skip: Sequence[str] = (), locked: Sequence[str] = (),
                hints: dict[str, str] | None = None) -> list[FormField]:
    hints = hints or {}
    return [FormField(f, f.attr in locked, hints.get(f.attr, "")) for f in fields if f.attr not in skip]


class Dialog(ModalScreen[T | None]):
    """A modal that Escape cancels (dismissing with None); when something in it was changed, it first asks
    whether to discard that (or save it instead). ``T`` is what it dismisses with otherwise."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    #: the name of the dialog's own "save" (what ctrl+s does), offered again by the discard question
    save_label = "Save"

    def changes(self) -> list[str]:
        """The labels of what the user changed here (what Escape would throw away)."""
        return []

    def action_save(self) -> None:
        """ctrl+s: what the dialog's main button does (nothing for a dialog that saves nothing)."""

    def action_cancel(self) -> None:
        lost = self.changes()
        if not lost:
            self.dismiss(None)
            return

        def answered(choice: DiscardChoice | None) -> None:
            if choice == "discard":
                self.dismiss(None)
            elif choice == "save":
                self.action_save()

        self.app.push_screen(DiscardChanges(lost, save_label=self.save_label), answered)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


DiscardChoice = Literal["discard", "save"]


class DiscardChanges(ModalScreen[DiscardChoice | None]):
    """Escape on a changed dialog: keep editing (None, the default and Escape), "discard" or "save"."""

    BINDINGS = [Binding("escape", "choose('keep')", "Keep editing"), Binding("d", "choose('discard')", "Discard"),
                Binding("ctrl+s", "choose('save')", "Save")]

    def __init__(self, lost: Sequence[str], *, save_label: str = "Save") -> None:
        super().__init__(classes="form-screen")
        self.lost = list(lost)
        self.save_label = save_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog discard-dialog"):
            yield Label("Discard your changes?", classes="dialog-title")
            yield Static(f"Changed: {', '.join(self.lost)}. Discarding closes the form without saving them.",
                         classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.save_label} (ctrl+s)", id="choose-save", variant="primary", compact=True)
                yield Button("Discard (d)", id="choose-discard", variant="error", compact=True)
                yield Button("Keep editing (Esc)", id="choose-keep", compact=True)

    def on_mount(self) -> None:
        self.query_one("#choose-keep", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss("discard" if choice == "discard" else "save" if choice == "save" else None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose((event.button.id or "choose-keep").removeprefix("choose-"))


#: what a form shows as its values change (e.g. a converted amount): the form's values -> one line
Preview = Callable[[dict[str, Any]], Content | str]


@dataclass(frozen=True)
class Saved:
    """What a form dismisses with once saved: the service layer's result."""

    value: Any


@dataclass(frozen=True)
class OpenExisting:
    """What a form dismisses with when the user, refused an ID that exists, chose to open that record."""

    kind: str
    code: str


ExistingChoice = Literal["open", "suggestion"]


class ExistingRecord(ModalScreen[ExistingChoice | None]):
    """An "Add" refused because the ID exists: open the existing record ("open"), use the next free ID
    ("suggestion"), or go back to the form (None). Nothing is saved by any of these."""

    BINDINGS = [Binding("escape", "choose('back')", "Back to the form"), Binding("o", "choose('open')", "Open"),
                Binding("u", "choose('suggestion')", "Use the next free ID")]

    def __init__(self, exc: AlreadyExists, *, can_open: bool) -> None:
        super().__init__(classes="form-screen")
        self.exc = exc
        self.can_open = can_open

    def compose(self) -> ComposeResult:
        exc = self.exc
        with Vertical(classes="dialog exists-dialog"):
            yield Label(f"{exc.code} already exists", classes="dialog-title")
            yield Static("\n".join(exc.lines()), classes="dialog-note")
            yield Static("Nothing has been saved: the existing record is unchanged.", classes="dialog-note")
            with Horizontal(classes="buttons"):
                if exc.suggestion:
                    yield Button(f"Use {exc.suggestion} (u)", id="choose-suggestion", variant="primary", compact=True)
                if self.can_open:
                    yield Button(f"Open {exc.code} (o)", id="choose-open", compact=True)
                yield Button("Back (Esc)", id="choose-back", compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters:
            return {"open": self.can_open, "suggestion": bool(self.exc.suggestion)}.get(str(parameters[0]), True)
        return True

    def action_choose(self, choice: str) -> None:
        self.dismiss("open" if choice == "open" else "suggestion" if choice == "suggestion" else None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose((event.button.id or "choose-back").removeprefix("choose-"))


class RecordForm(Dialog[Saved | OpenExisting]):
    """Add or edit one record. ``save(values, reason)`` calls the service layer through ``write``, which asks
    for a reason when one is needed and saves again. Dismisses with ``Saved(result)``, ``OpenExisting`` (an
    "Add" whose ID exists, the user chose to open that record) or None when cancelled. ``preview``, when
    given, is shown under the fields and recomputed as the user types."""

    BINDINGS = [Binding("ctrl+s", "save", "Save")]

    def __init__(self, title: str, fields: Sequence[FormField], values: dict[str, Any] | None,
                 save: Callable[[dict[str, Any], Reason | None], Any], write: Write, *, note: str = "",
                 preview: Preview | None = None, lookup: Preview | None = None, can_open: bool = False) -> None:
        super().__init__(classes="form-screen")
        self.title_text = title
        self.fields = list(fields)
        self.initial = dict(values or {})
        self.save_fn = save
        self.write = write
        self.note = note
        self.preview = preview
        #: like ``preview`` but reads the database (who is recognised): run in a thread as the user types
        self.lookup = lookup
        #: an "Add" refused for an existing ID may offer to open that record (the caller opens it)
        self.can_open = can_open
        self.saving = False
        # what the form holds when opened, as values() reads it back: a change is a difference from this
        self.pristine = {f.attr: self._shown(f, self.initial.get(f.attr)) for f in self.fields}
        # problems the service layer found (some only it can see: an unknown budget line), kept under their
        # field until that field's text changes, so that leaving an unchanged field does not wipe them
        self.record_problems: dict[str, tuple[Any, str]] = {}

    @staticmethod
    def _shown(f: FormField, value: Any) -> Any:
        if f.field.vocab:
            return value if value in f.field.vocab else None
        return fmt.input_value(value).strip() or None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            if self.note:
                yield Static(self.note, classes="dialog-note")
            yield Static(id="form-error", classes="form-error")
            with VerticalScroll(classes="form-body"):
                for f in self.fields:
                    yield from self._field_row(f)
            if self.preview is not None:
                yield Static(id="form-preview", classes="form-preview")
            if self.lookup is not None:
                yield Static(id="form-lookup", classes="form-preview")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="cancel", compact=True)

    def _field_row(self, f: FormField) -> ComposeResult:
        value = self.initial.get(f.attr)
        widget: Widget
        if f.field.vocab:
            options = [(v, v) for v in f.field.vocab]
            widget = Select(options, value=value if value in f.field.vocab else Select.NULL,
                            allow_blank=not f.field.required or value not in f.field.vocab,
                            prompt="(none)" if not f.field.required else "choose…", id=f"f-{f.attr}",
                            compact=True)
        else:
            suggester = SuggestFromList(KENYA_COUNTIES, case_sensitive=False) if f.field.kind == "county" else None
            widget = Input(fmt.input_value(value), placeholder=PLACEHOLDERS.get(f.field.kind, ""),
                           id=f"f-{f.attr}", suggester=suggester, compact=True)
        widget.disabled = f.locked
        with Horizontal(classes="field-row"):
            yield Label(f"{f.label}{' *' if f.field.required else ''}", classes="field-label")
            yield widget
        if f.hint:
            yield Static(f.hint, classes="field-hint")
        yield Static(classes="field-error", id=f"e-{f.attr}")

    def on_mount(self) -> None:
        for f in self.fields:
            if not f.locked:
                widget = self.query_one(f"#f-{f.attr}")
                widget.focus()
                if isinstance(widget, Input):  # typing replaces the value (typing 50 over 45 is 50, not 4550)
                    self.call_after_refresh(widget.select_all)
                break
        self._update_preview()
        self._start_lookup()

    def changes(self) -> list[str]:
        now = self.values()
        return [f.label for f in self.fields if now[f.attr] != self.pristine[f.attr]]

    @on(Input.Changed)
    @on(Select.Changed)
    def _update_preview(self) -> None:
        target = self.query("#form-preview")
        if self.preview is None or not target:
            return
        try:
            shown = self.preview(self.values())
        except Exception as exc:  # a preview must never break the form; the save still checks everything
            shown = f"({type(exc).__name__})"
        target.first(Static).update(shown)

    @on(Input.Changed)
    @on(Select.Changed)
    def _start_lookup(self) -> None:
        if self.lookup is None or not self.query("#form-lookup"):
            return
        lookup, values = self.lookup, self.values()

        def work() -> None:
            worker = get_current_worker()
            try:
                shown: Content | str = lookup(values)
            except Exception as exc:  # a lookup must never break the form; the save checks everything
                shown = f"({type(exc).__name__})"
            if not worker.is_cancelled:
                self.app.call_from_thread(self._show_lookup, shown)

        # a newer keystroke supersedes a stale lookup
        self.run_worker(work, thread=True, exclusive=True, group="lookup", exit_on_error=False)

    def _show_lookup(self, shown: Content | str) -> None:
        if self.is_attached:
            self.query_one("#form-lookup", Static).update(shown)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.attr}")
            if isinstance(widget, Select):
                out[f.attr] = None if widget.value is Select.NULL else widget.value
            else:
                text = widget.value.strip()  # type: ignore[attr-defined]
                out[f.attr] = text or None
        return out

    # Inline checks ------------------------------------------------------------------------------------------
    @on(Input.Blurred)
    def _check_one(self, event: Input.Blurred) -> None:
        attr = (event.input.id or "")[2:]
        f = next((x for x in self.fields if x.attr == attr), None)
        if f is None:
            return
        _value, problem = f.field.parse(event.value)
        if problem is None and attr in self.record_problems:
            if self.record_problems[attr][0] == event.value:
                return  # unchanged since the save found its problem: still a problem
            del self.record_problems[attr]
        self._set_error(attr, problem.message if problem else "")

    def _set_error(self, attr: str, message: str) -> None:
        target = self.query_one("#form-error", Static) if attr == GENERAL else self.query_one(f"#e-{attr}", Static)
        target.update(message)
        target.set_class(bool(message), "-shown")
        if attr != GENERAL:
            self.query_one(f"#f-{attr}").set_class(bool(message), "-invalid")

    def show_problems(self, exc: MouError) -> None:
        """Put each problem under its field (or at the top when it names no field of this form)."""
        by_label = {f.label: f.attr for f in self.fields}
        general: list[str] = []
        self.record_problems.clear()
        for f in self.fields:
            self._set_error(f.attr, "")
        if isinstance(exc, ValidationError):
            per_field: dict[str, list[str]] = {}
            for p in exc.problems:
                attr = by_label.get(p.field)
                if attr is None:
                    general.append(str(p))
                else:
                    per_field.setdefault(attr, []).append(p.message)
            for attr, messages in per_field.items():
                self._set_error(attr, "; ".join(messages))
                widget = self.query_one(f"#f-{attr}")
                self.record_problems[attr] = (widget.value if isinstance(widget, Input) else None,
                                              "; ".join(messages))
            first = next((f for f in self.fields if f.attr in per_field and not f.locked), None)
            if first is not None:
                self.query_one(f"#f-{first.attr}").focus()
        else:
            general.extend(exc.lines())
        self._set_error(GENERAL, "\n".join(general))

    # Saving -------------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def _submit(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        values = self.values()
        self.run_worker(self._save(values), exclusive=True, group="edit", exit_on_error=False)

    async def _save(self, values: dict[str, Any]) -> None:
        try:
            outcome = await self.write(lambda reason: self.save_fn(values, reason))
        except AlreadyExists as exc:
            self.saving = False
            self.show_problems(exc)
            await self._already_exists(exc)
            return
        except MouError as exc:
            self.show_problems(exc)
            return
        finally:
            self.saving = False
        if outcome is not None:
            notes = getattr(outcome, "notes", None)
            if notes:  # what the save adjusted or kept (a rate rounded, a recorded name kept): never silent
                self.app.notify("\n".join(notes), title="Saved, note", timeout=10)
            self.dismiss(Saved(outcome))

    async def _already_exists(self, exc: AlreadyExists) -> None:
        """The ID is taken: never replace that record. Offer to open it, or to use the next free ID."""
        if not (exc.suggestion or self.can_open):
            return  # the message under the field says it all
        choice = await self.app.push_screen_wait(ExistingRecord(exc, can_open=self.can_open))
        if choice == "open":
            self.dismiss(OpenExisting(exc.kind, exc.code))
        elif choice == "suggestion" and exc.suggestion:
            attr = self.id_attr(exc)
            if attr is not None:
                widget = self.query_one(f"#f-{attr}", Input)
                widget.value = exc.suggestion
                self.record_problems.pop(attr, None)
                self._set_error(attr, "")
                self._set_error(GENERAL, f"{exc.code} exists: the next free ID {exc.suggestion} is filled in; "
                                         "ctrl+s saves the new record under it.")
                widget.focus()

    def id_attr(self, exc: AlreadyExists) -> str | None:
        """The input holding the refused ID: the field the problem names, else the record's code."""
        labels = {p.field for p in exc.problems}
        for f in self.fields:
            if f.label in labels and not f.field.vocab and not f.locked:
                return f.attr
        return "code" if any(f.attr == "code" and not f.locked for f in self.fields) else None


def converted_amount(grant_currency: str, fields: Sequence[Field]) -> Preview:
    """The preview of an expenditure or a disbursement: its amount in the grant currency, amount × rate
    rounded half-up to cents once (``domain.money.convert``, as the service layer saves it), or what is
    still missing for it. The fields' own parsing is used, so the preview reads the input as the save will."""
    by_attr = {f.attr: f for f in fields}
    head = f"In {grant_currency}: "

    def show(values: dict[str, Any]) -> Content:
        amount, bad_amount = by_attr["amount"].parse(values.get("amount"))
        currency, bad_currency = by_attr["currency"].parse(values.get("currency"))
        rate, bad_rate = by_attr["rate"].parse(values.get("rate"))
        if amount is None or bad_amount is not None:
            return Content.assemble((head, "bold"), "– (enter the amount)")
        if bad_rate is not None:
            return Content.assemble((head, "bold"), f"– (rate {bad_rate.message})")
        if currency is None or bad_currency is not None:
            return Content.assemble((head, "bold"), "– (enter the currency)")
        if currency != grant_currency:
            if rate is None:
                return Content.assemble((head, "bold"), (f"needs a rate: {currency} differs from {grant_currency} "
                                                         f"(amount × rate = amount in {grant_currency})", "$warning"))
            note = ""
            raw = str(values.get("rate") or "")
            try:
                if to_decimal(raw) != rate:
                    note = f"; the rate {raw.strip()} is rounded to {rate.normalize():f}"
            except ArithmeticError:
                pass
            return Content.assemble((head + fmt.money(convert(amount, rate)), "bold"),
                                    f"  ({currency} {fmt.money(amount)} × {rate.normalize():f}, rounded to cents"
                                    f"{note})")
        if rate is not None and rate != 1:
            return Content.assemble((head, "bold"), (f"– (the rate must be 1 or empty when the currency is "
                                                     f"{grant_currency})", "$warning"))
        return Content.assemble((head + fmt.money(convert(amount, None)), "bold"), "  (the grant currency)")

    return show


class ReasonScreen(Dialog[Reason]):
    """Ask why: a reason category (docs/reference/audit-and-signoff.md) and a few words. Dismisses with a
    ``Reason``, or None when cancelled."""

    BINDINGS = [Binding("ctrl+s", "save", "Save")]

    def __init__(self, title: str, message: str, *, confirm: str = "Save", danger: bool = False) -> None:
        super().__init__(classes="form-screen")
        self.title_text = title
        self.message = message
        self.confirm = confirm
        self.danger = danger
        self.save_label = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog reason-dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.message, classes="dialog-note")
            yield Static(id="form-error", classes="form-error")
            with Horizontal(classes="field-row"):
                yield Label("Reason category *", classes="field-label")
                yield Select([(c, c) for c in REASON_CATEGORIES], id="category", prompt="choose…", compact=True)
            with Horizontal(classes="field-row"):
                yield Label("Explanation *", classes="field-label")
                yield Input(placeholder="a few words for the audit trail", id="reason-text", compact=True)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.confirm} (ctrl+s)", id="confirm", variant="error" if self.danger else "primary",
                             compact=True)
                yield Button("Cancel (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#category", Select).focus()

    def changes(self) -> list[str]:
        lost = []
        if self.query_one("#category", Select).value is not Select.NULL:
            lost.append("Reason category")
        if self.query_one("#reason-text", Input).value.strip():
            lost.append("Explanation")
        return lost

    def action_save(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    def _confirm(self) -> None:
        category = self.query_one("#category", Select).value
        text = self.query_one("#reason-text", Input).value
        error = self.query_one("#form-error", Static)
        if category is Select.NULL:
            error.update("Reason: choose a category")
            error.add_class("-shown")
            self.query_one("#category", Select).focus()
            return
        try:
            reason = Reason.of(str(category), text)
        except ValidationError as exc:
            error.update("\n".join(exc.lines()))
            error.add_class("-shown")
            self.query_one("#reason-text", Input).focus()
            return
        self.dismiss(reason)


class RecordDetail(Dialog[str]):
    """A record's fields, read-only, with the actions the user may take on it (each dismisses with its id;
    None when closed)."""

    def __init__(self, title: str, rows: Sequence[tuple[str, Any]], actions: Sequence[tuple[str, str, str]] = ()
                 ) -> None:
        super().__init__(classes="form-screen")
        self.title_text = title
        self.rows = list(rows)
        self.actions = list(actions)
        self._bindings_for_actions = {key: action_id for key, _label, action_id in actions}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="form-body"):
                yield Static(key_values(self.rows), classes="detail-body")
            with Horizontal(classes="buttons"):
                for key, label, action_id in self.actions:
                    yield Button(f"{label} ({key})", id=f"act-{action_id}",
                                 variant="error" if action_id == "delete" else "default", compact=True)
                yield Button("Close (Esc)", id="cancel", compact=True)

    def on_key(self, event: Any) -> None:
        action = self._bindings_for_actions.get(event.key)
        if action is not None:
            event.stop()
            self.dismiss(action)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("act-"):
            self.dismiss(event.button.id[4:])


def key_values(rows: Sequence[tuple[str, Any]]) -> Content:
    """'Label: value' lines with the labels aligned."""
    width = max((len(k) for k, _ in rows), default=0)
    lines = [Content.assemble((f"{k:>{width}}  ", "bold"), fmt.text(v)) for k, v in rows]
    return Content("\n").join(lines)


class PartnershipPicker(Dialog[str]):
    """The database's partnerships, the one shown marked: Enter (or a click) picks one and dismisses with its
    code; Esc closes (None)."""

    def __init__(self, partnerships: Sequence[Any], current: str) -> None:
        super().__init__(classes="form-screen")
        self.partnerships = list(partnerships)
        self.current = current

    def compose(self) -> ComposeResult:
        width = max((len(p.code) for p in self.partnerships), default=0)
        options = [Option(Content.assemble(("● " if p.code == self.current else "  ", "$accent"),
                                           (f"{p.code:<{width}}", "bold"), f"  {p.name} ({p.country})"), id=p.code)
                   for p in self.partnerships]
        with Vertical(classes="dialog"):
            yield Label("Switch partnership", classes="dialog-title")
            yield Static(f"{fmt.count(len(self.partnerships), 'partnership')} in this database; every screen "
                         "then shows the one chosen (● is the one shown now).", classes="dialog-note")
            yield OptionList(*options, id="partnerships", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Close (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        codes = [p.code for p in self.partnerships]
        if self.current in codes:
            options.highlighted = codes.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
