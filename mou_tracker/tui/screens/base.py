"""What every screen shares: navigation, title line, footer, read-only enforcement, background loading."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar
from weakref import WeakSet

from textual import on
from textual._context import active_app
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import get_current_worker

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import ListRequest, Page
from mou_tracker.services.audit import Reason
from mou_tracker.tui.context import UIContext
from mou_tracker.tui.screens import BY_MODE, SCREENS
from mou_tracker.tui.widgets import LOADING_DELAY, Col, NavBar, PagedTable, Session, TitleBar

if TYPE_CHECKING:  # the forms' code is loaded when a form is first opened, not at start-up
    from mou_tracker.tui.forms import FormField, Preview

T = TypeVar("T")


class Cancelled(Exception):
    """The user backed out of a change (e.g. declined to give a reason)."""


class Host(Protocol):
    """What a screen asks of the app it runs in (the app implements it; screens never import the app)."""

    ctx: UIContext
    data_version: int
    #: the database holds more than one partnership (the Portfolio tab is then shown)
    several_partnerships: bool

    def show_problem(self, exc: BaseException) -> None: ...

    async def write(self, call: Callable[[Reason | None], T], reason: Reason | None = None) -> T: ...

    async def confirm_delete(self, what: str, detail: str, call: Callable[[Reason], Any]) -> bool: ...

    def first_dashboard(self) -> Future[Any] | None: ...

    def warm_up(self) -> None: ...

#: actions that change records: never offered in a read-only session (the service layer refuses them too)
EDIT_PREFIXES = ("add_", "edit_", "delete_", "remove_")


def is_edit_action(action: str) -> bool:
    return action.startswith(EDIT_PREFIXES)


#: the apps that have shown a screen already (see ``MouScreen.__init__``)
_SHOWN_IN: WeakSet[App[Any]] = WeakSet()


class MouScreen(Screen[None]):
    """A screen of the app. Subclasses set ``MODE`` (which navigation tab it belongs to; its heading is the
    registry's unless ``HEADING`` says otherwise), compose their body in ``compose_body`` and (re)load
    their data in ``refresh_data``."""

    MODE: ClassVar[str] = "dashboard"
    HEADING: ClassVar[str] = ""
    #: the id of the screen's main paged table, if it has one (it gets the focus and ``refresh_data``)
    TABLE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TABLE and "AUTO_FOCUS" not in cls.__dict__:
            cls.AUTO_FOCUS = f"#{cls.TABLE} > PageTable"

    def __init__(self) -> None:
        super().__init__()
        self.loaded_version = -1
        self._load_timers: dict[str, Timer] = {}
        # Styled as it mounts, like any new widget. Textual marks a new screen's styles as stale (-1), so the
        # first visit of each tab re-parsed the whole stylesheet and restyled every node of every open
        # screen: about a fifth of the processor time of going through the tabs. The app's first screen is
        # left to Textual (it is made while the app's theme is still being put in place); a theme changed
        # later still restyles every screen (the app's count moves on).
        app = active_app.get(None)  # None: made outside a running app
        if app is not None and app in _SHOWN_IN:
            self._css_update_count = app._css_update_count

    @property
    def mou(self) -> Host:
        return self.app  # type: ignore[return-value]

    @property
    def ctx(self) -> UIContext:
        return self.mou.ctx

    def compose(self) -> ComposeResult:
        ctx = self.ctx
        yield TitleBar(Session(ctx.actor, read_only=ctx.read_only, as_of=ctx.as_of, partnership=ctx.partnership_code))
        yield from self.compose_body()
        several = self.mou.several_partnerships
        yield NavBar([(s.mode, s.key, s.title, s.short) for s in SCREENS if several or not s.several_only], self.MODE)
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        _SHOWN_IN.add(self.app)
        self.set_heading(self.HEADING or BY_MODE[self.MODE].heading)

    @on(PagedTable.LoadFailed)
    def _table_failed(self, event: PagedTable.LoadFailed) -> None:
        event.stop()
        self.mou.show_problem(event.error)

    def set_heading(self, heading: str | Content) -> None:
        self.query_one(TitleBar).set_heading(heading)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (is_edit_action(action) and self.ctx.read_only)

    # Keeping the data fresh ---------------------------------------------------------------------------------
    def on_screen_resume(self) -> None:
        if self.loaded_version != self.mou.data_version:
            self.loaded_version = self.mou.data_version
            self.refresh_data()

    def refresh_data(self) -> None:
        """Load (or reload) what the screen shows; called when it is shown and after changes elsewhere."""
        if self.TABLE:
            self.table.reload()

    @property
    def table(self) -> PagedTable[Any]:
        return self.query_one(f"#{self.TABLE}", PagedTable)

    def list_table(self, columns: Sequence[Col[Any]], query: Callable[[ListRequest], Page[Any]],
                   key: Callable[[Any], str], noun: str) -> PagedTable[Any]:
        """The screen's main table, fed by ``query(request)`` (a reader's list, e.g. ``reader.trainings``)."""
        return PagedTable(columns, query, key, noun=noun, id=self.TABLE)

    def act_on_current(self, flow: Callable[[Any], Awaitable[Any]]) -> None:
        """Run an edit flow on the table's current row (nothing when the table is empty)."""
        row = self.table.current
        if row is not None:
            run_edit(self, lambda: flow(row))

    def load(self, fn: Callable[[], T], apply: Callable[[T], None], *, cover: Widget | None = None,
             group: str = "load") -> None:
        """Run ``fn`` in a thread (a newer load in the same group supersedes it) and hand its result to
        ``apply`` on the UI thread. ``cover`` shows a loading indicator if the load is slow."""
        if cover is not None and group not in self._load_timers:
            self._load_timers[group] = self.set_timer(LOADING_DELAY, lambda: self._cover_while_loading(group, cover))

        def work() -> None:
            worker = get_current_worker()
            try:
                result = fn()
            except Exception as exc:  # shown to the user, never a crash
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._load_done, group, cover, None, exc, apply)
                return
            if not worker.is_cancelled:
                try:
                    self.app.call_from_thread(self._load_done, group, cover, result, None, apply)
                except Exception as exc:  # a bug showing the result: shown, never swallowed
                    self.app.call_from_thread(self._load_done, group, cover, None, exc, apply)

        self.run_worker(work, thread=True, exclusive=True, group=group, exit_on_error=False)

    def _cover_while_loading(self, group: str, cover: Widget) -> None:
        # a timer stopped after its event was already queued still calls this: cover only while the load runs
        if group in self._load_timers:
            cover.loading = True

    def _load_done(self, group: str, cover: Widget | None, result: Any, exc: Exception | None,
                   apply: Callable[[Any], None]) -> None:
        timer = self._load_timers.pop(group, None)
        if timer is not None:
            timer.stop()
        if cover is not None:
            cover.loading = False
        if exc is not None:
            self.mou.show_problem(exc)
            return
        apply(result)


class SubScreen(MouScreen):
    """A screen pushed over a list (a training with its participants, a milestone with its history)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]


def run_edit(screen: MouScreen, flow: Callable[[], Awaitable[Any]]) -> None:
    """Run an edit flow (forms, reason prompts, confirmations) as a worker: dialogs are awaited in it, and
    whatever goes wrong is shown to the user, never raised."""

    async def guarded() -> None:
        try:
            await flow()
        except Cancelled:
            pass
        except Exception as exc:  # MouError or a bug: shown, never a crash
            screen.mou.show_problem(exc)

    screen.run_worker(guarded(), group="edit", exclusive=True, exit_on_error=False)


async def open_form(screen: MouScreen, title: str, fields: Sequence[FormField], values: dict[str, Any] | None,
                    save: Callable[[dict[str, Any], Reason | None], Any], note: str = "",
                    preview: Preview | None = None, lookup: Preview | None = None) -> Any:
    """Show a record form and wait: the save's result, or None when cancelled."""
    from mou_tracker.tui.forms import RecordForm, Saved

    result = await screen.app.push_screen_wait(RecordForm(title, fields, values, save, screen.mou.write, note=note,
                                                          preview=preview, lookup=lookup))
    return result.value if isinstance(result, Saved) else None


async def add_form(screen: MouScreen, title: str, fields: Sequence[FormField], values: dict[str, Any] | None,
                   create: Callable[[dict[str, Any], Reason | None], Any], *,
                   open_existing: Callable[[str], Awaitable[Any]] | None = None, note: str = "",
                   preview: Preview | None = None, lookup: Preview | None = None) -> Any:
    """An "Add" form: ``create`` is the service layer's create_*, which refuses an ID that exists (never
    replacing that record). The form then offers the next free ID, or to open the existing record with
    ``open_existing(code)`` (awaited here; the result is then None). Returns the create's result, or None."""
    from mou_tracker.tui.forms import OpenExisting, RecordForm, Saved

    result = await screen.app.push_screen_wait(RecordForm(title, fields, values, create, screen.mou.write, note=note,
                                                          preview=preview, lookup=lookup,
                                                          can_open=open_existing is not None))
    if isinstance(result, OpenExisting):
        if open_existing is not None:
            await open_existing(result.code)
        return None
    return result.value if isinstance(result, Saved) else None


def exact(page: Page[T], code: str, key: Callable[[T], Any]) -> T | None:
    """The row of ``page`` whose ID is exactly ``code`` (a filtered listing also holds near matches)."""
    return next((r for r in page.rows if key(r) == code), None)


async def open_detail(screen: MouScreen, title: str, rows: Sequence[tuple[str, Any]], *, edit: bool = True,
                      delete: bool = True) -> str | None:
    """Show a record's fields; returns "edit" or "delete" when the user picks that action (never offered in
    a read-only session), else None."""
    from mou_tracker.tui.forms import RecordDetail

    actions = []
    if edit and not screen.ctx.read_only:
        actions.append(("e", "Edit", "edit"))
        if delete:
            actions.append(("x", "Delete", "delete"))
    return await screen.app.push_screen_wait(RecordDetail(title, rows, actions))


class QuarterScreen(MouScreen):
    """A screen showing one quarter at a time (``quarter``): `[` and `]` step it, `c` brings back the current
    one; ``refresh_data`` shows the quarter chosen."""

    def __init__(self) -> None:
        super().__init__()
        self.quarter = Quarter.of(self.ctx.reference_day)

    def action_quarter(self, step: int) -> None:
        self.quarter = self.quarter.next() if step > 0 else self.quarter.prev()
        self.refresh_data()

    def action_current_quarter(self) -> None:
        self.quarter = Quarter.of(self.ctx.reference_day)
        self.refresh_data()
