"""The terminal UI for programme managers and evaluators (docs/reference/tui.md).

``run_app`` is what ``mou-tracker`` / ``mou-tracker tui`` call; ``build_app`` makes the same app for tests
and benchmarks, both from the composition root (``mou_tracker.app_root.open_app``). The UI reads through
the reader (``mou_tracker.read``) and writes through the service layer only; it computes no figure of its
own and never holds a database or a session.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from mou_tracker import __version__
from mou_tracker.app_root import Settings, open_app
from mou_tracker.errors import MouError, PermissionDenied, ReasonRequired
from mou_tracker.read.views import PartnershipInfo
from mou_tracker.services.audit import Reason
from mou_tracker.tui import settings as ui_settings
from mou_tracker.tui.context import UIContext
from mou_tracker.tui.screens import SCREENS, make_screen, screen_class
from mou_tracker.tui.screens.base import Cancelled, MouScreen, is_edit_action
from mou_tracker.tui.widgets import NavBar

__all__ = ["Cancelled", "MouApp", "build_app", "run_app"]

T = TypeVar("T")
WARM_UP_DELAY = 1.0  # seconds after the first dashboard before the other screens' code is loaded


def log_path() -> Path:
    from mou_tracker.paths import data_dir

    return data_dir() / "mou-tracker.log"


def log_unexpected(text: str) -> str:
    """Keep a bug's traceback in the log file; return where it went."""
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now(UTC).isoformat()} mou-tracker {__version__} (terminal UI)\n{text}\n")
        return str(path)
    except OSError:
        return "(the log could not be written)"


def unexpected_message(exc: BaseException) -> str:
    where = log_unexpected("".join(traceback.format_exception(exc)))
    return f"unexpected problem ({type(exc).__name__}: {exc}); details in {where}"


class MouApp(App[None]):
    """mou-tracker's terminal UI on one database, for one actor and one partnership."""

    CSS_PATH = "app.tcss"
    TITLE = "mou-tracker"
    MODES = {s.mode: partial(make_screen, s.mode) for s in SCREENS}
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        # the screen keys are shown in the bar just above the footer (NavBar), not repeated in it
        *(Binding(s.key, f"switch_mode('{s.mode}')", s.title, id=f"screen.{s.mode}",
                  tooltip=f"Open the {s.title} screen", show=False) for s in SCREENS),
        Binding("question_mark", "toggle_keys", "Keys", tooltip="Show or hide every key binding"),
        Binding("w", "switch_partnership", "Switch partnership", show=False,
                tooltip="Show another partnership of this database (the title line names the one shown)"),
        # before any screen's own Escape (back, clear the filter): first it closes the keys panel
        Binding("escape", "hide_keys", "Hide keys", show=False, priority=True),
        Binding("q", "quit", "Quit", show=False),
    ]

    def __init__(self, ctx: UIContext, partnerships: tuple[PartnershipInfo, ...] = ()) -> None:
        super().__init__()
        self.ctx = ctx
        #: every partnership of the database (the switcher's list; with several, the Portfolio tab is shown)
        self.partnerships = partnerships
        self.data_version = 0
        self._crash_note: str | None = None
        self.settings = ui_settings.load()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        # the first dashboard is computed while Textual starts up
        self._first_dashboard: Future[Any] = Future()
        threading.Thread(target=self._prefetch_dashboard, name="mou-prefetch", daemon=True).start()

    def _prefetch_dashboard(self) -> None:
        from mou_tracker.domain.periods import Quarter

        ctx, future = self.ctx, self._first_dashboard
        day = ctx.reference_day
        try:
            future.set_result(ctx.reader.dashboard(Quarter.of(day), day))
        except BaseException as exc:  # handed to the dashboard, which shows it
            future.set_exception(exc)

    def warm_up(self) -> None:
        """Once the dashboard is up, load the other screens' code in the background, so that their first
        visit is as quick as later ones."""

        def load() -> None:
            import mou_tracker.tui.forms  # noqa: F401

            for s in SCREENS:
                s.load()

        # a moment later, so as not to compete with the first paint
        self.set_timer(WARM_UP_DELAY, threading.Thread(target=load, name="mou-warm-up", daemon=True).start)

    @property
    def several_partnerships(self) -> bool:
        return len(self.partnerships) > 1

    def first_dashboard(self) -> Future[Any] | None:
        """The dashboard computed at start-up, once (later loads compute their own)."""
        future, self._first_dashboard = self._first_dashboard, None  # type: ignore[assignment]
        return future

    # Errors and writes ----------------------------------------------------------------------------------------
    def show_problem(self, exc: BaseException) -> None:
        """Tell the user what went wrong, in one or a few lines; bugs go to the log, never to the screen."""
        if isinstance(exc, MouError):
            self.notify("\n".join(exc.lines()), title="Not done", severity="error", timeout=8)
        else:
            self.notify(unexpected_message(exc), title="Problem", severity="error", timeout=12)

    def data_changed(self) -> None:
        """A write succeeded: every screen reloads when next shown, except the one that made the change
        (under its dialog), which reloads itself."""
        self.data_version += 1
        for screen in reversed(self.screen_stack):
            if isinstance(screen, MouScreen):
                screen.loaded_version = self.data_version
                break

    async def write(self, call: Callable[[Reason | None], T], reason: Reason | None = None) -> T:
        """Run a service-layer write off the UI thread. When the audit trail needs a reason for it, ask for
        one and try again. Raises MouError (to show), or Cancelled when the user declines to give a reason.
        Must run inside a worker (it may wait for the reason dialog)."""
        if self.ctx.read_only:
            raise PermissionDenied("this session is read-only: no change can be made")
        while True:
            try:
                result = await asyncio.to_thread(call, reason)
            except ReasonRequired as exc:
                if reason is not None:
                    raise
                from mou_tracker.tui.forms import ReasonScreen

                message = "; ".join(p.message for p in exc.problems)
                reason = await self.push_screen_wait(ReasonScreen("A reason is needed", message[:1].upper()
                                                                  + message[1:] + "."))
                if reason is None:
                    raise Cancelled() from None
                continue
            except MouError:
                raise
            except Exception as exc:
                raise MouError(unexpected_message(exc)) from exc
            self.data_changed()
            return result

    async def confirm_delete(self, what: str, detail: str, call: Callable[[Reason], Any]) -> bool:
        """Ask to confirm a delete and for its reason, then delete. Returns True when deleted."""
        from mou_tracker.tui.forms import ReasonScreen

        reason = await self.push_screen_wait(ReasonScreen(f"Delete {what}?", detail, confirm="Delete",
                                                          danger=True))
        if reason is None:
            return False
        try:
            await self.write(lambda _r: call(reason), reason)
        except Cancelled:
            return False
        except MouError as exc:
            self.show_problem(exc)
            return False
        self.notify(f"Deleted {what}.", timeout=4)
        return True

    # Partnerships -------------------------------------------------------------------------------------------
    def action_switch_partnership(self) -> None:
        # in the group "edit": a flow that waits for a dialog, as the screens' edit flows do
        self.run_worker(self._pick_partnership(), group="edit", exclusive=True, exit_on_error=False)

    async def _pick_partnership(self) -> None:
        from mou_tracker.tui.forms import PartnershipPicker

        try:
            self.partnerships = await asyncio.to_thread(self.ctx.reader.partnerships)
        except Exception as exc:
            self.show_problem(exc)
            return
        code = await self.push_screen_wait(PartnershipPicker(self.partnerships, self.ctx.partnership_code))
        if code is not None and code != self.ctx.partnership_code:
            await self.switch_partnership(code)

    async def switch_partnership(self, code: str) -> bool:
        """Show partnership ``code`` everywhere: a reader and services for it (same actor, rights and as-of
        day), and every screen built anew, so that nothing of the partnership shown before remains. True when
        switched; a problem (no such partnership) is shown and nothing changes."""
        try:
            ctx = await asyncio.to_thread(self.ctx.switch, code)
            self.partnerships = await asyncio.to_thread(ctx.reader.partnerships)
        except Exception as exc:
            self.show_problem(exc)
            return False
        self.ctx = ctx
        self._first_dashboard = None  # type: ignore[assignment]  # computed for the partnership shown before
        self.data_version += 1
        here = self.current_mode
        self.add_mode("_switching", Screen)
        await self.switch_mode("_switching")
        for s in SCREENS:
            await self.remove_mode(s.mode)
            self.add_mode(s.mode, partial(make_screen, s.mode))
        await self.switch_mode(here)
        await self.remove_mode("_switching")
        if self.settings.partnership != ctx.partnership_code:
            self.settings = replace(self.settings, partnership=ctx.partnership_code)
            ui_settings.save(self.settings)
        name = next((p.name for p in self.partnerships if p.code == ctx.partnership_code), "")
        self.notify(f"Showing {ctx.partnership_code}{f': {name}' if name else ''}.", timeout=4)
        return True

    # Keys, palette, settings ----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme: Any) -> None:
        if theme.name != self.settings.theme:
            self.settings = replace(self.settings, theme=theme.name)
            ui_settings.save(self.settings)

    def on_nav_bar_picked(self, event: NavBar.Picked) -> None:
        self.switch_mode(event.mode)

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_hide_keys(self) -> None:
        self.action_hide_help_panel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hide_keys":  # Escape is the keys panel's only while it is open
            return bool(self.screen.query("HelpPanel"))
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, then every screen, then this screen's actions as bound now, then every
        other tab's actions (switch there, then act); each command once."""
        titles: set[str] = set()
        for command in self._palette_commands(screen):
            if command.title.casefold() not in titles:
                titles.add(command.title.casefold())
                yield command

    def _palette_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for s in SCREENS:
            yield SystemCommand(f"Go to {s.title}", f"Open the {s.title} screen (key {s.key})",
                                partial(self.switch_mode, s.mode))
        yield SystemCommand("Switch partnership", f"Show another partnership of this database (key w; now "
                                                  f"{self.ctx.partnership_code})", self.action_switch_partnership)
        # this screen's own actions, as bound now (what the footer shows): the ones it names for people
        # (a key kept out of the footer for room is offered too when it says what it does: it has a tooltip)
        for _key, (namespace, binding, enabled, tooltip) in screen.active_bindings.items():
            if namespace is self or not enabled or not binding.description or not (binding.show or binding.tooltip):
                continue
            yield SystemCommand(binding.description, tooltip or binding.tooltip or binding.description,
                                partial(self.run_action, binding.action, namespace))
        # (not this screen's own tab: a record's detail offers its own actions, not the list's again)
        here = getattr(screen, "MODE", None)
        for s in SCREENS:
            if s.mode == here:
                continue
            cls = screen_class(s.mode)
            for binding in cls.BINDINGS:  # type: ignore[attr-defined]
                b = binding if isinstance(binding, Binding) else Binding(*binding)
                if not (b.show or b.tooltip) or (self.ctx.read_only and is_edit_action(b.action)):
                    continue
                yield SystemCommand(f"{s.title}: {b.description}",
                                    b.tooltip or f"{b.description} on the {s.title} screen",
                                    partial(self._act_on, s.mode, b.action))

    async def _act_on(self, mode: str, action: str) -> None:
        await self.switch_mode(mode)
        await self.screen_stack[0].run_action(action)

    # Life cycle -----------------------------------------------------------------------------------------------
    def on_unmount(self) -> None:
        self.ctx.close()

    def _handle_exception(self, error: Exception) -> None:
        # last resort: a bug escaped every handler. Keep the traceback in the log, tell the user in one line.
        self._crash_note = unexpected_message(error)
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        if self._exit_renderables:
            self._exit_renderables.clear()
            print(f"error: {self._crash_note or 'unexpected problem in the terminal UI'}", file=sys.stderr)


def build_app(settings: Settings, *, database: Any = None) -> MouApp:
    """The app, with its context resolved (partnership, rights) by the composition root; ``database`` is an
    already open one (tests, benchmarks). ``settings.today`` fixes the clock for tests. When the database
    holds several partnerships and none is named, the one last switched to is shown (else the first by
    code); ``w`` switches."""
    ctx = open_app(settings, database=database, resolve=False)
    try:
        partnerships = ctx.reader.partnerships()
        if settings.partnership is None and len(partnerships) > 1:
            remembered = ui_settings.load().partnership
            codes = [p.code for p in partnerships]
            ctx = ctx.switch(remembered if remembered in codes else codes[0])
        ctx.partnership_code  # noqa: B018 - the partnership is looked up now: a wrong code fails here
    except BaseException:
        ctx.close()
        raise
    return MouApp(ctx, partnerships)


def run_app(settings: Settings) -> None:
    """Open the terminal UI (blocks until the user quits). Problems before the UI opens (no such
    partnership, an unreadable database) are raised as MouError for the CLI to print."""
    app = build_app(settings)
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
