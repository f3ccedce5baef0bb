"""Reports: write a party's Excel progress report (party, period, as-of, output file), in a worker with a
progress bar. A thin front for ``mou_tracker.reports.generate_report``; when that feature is not installed
the screen says so and offers nothing."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import MouError
from mou_tracker.services.fields import Field
from mou_tracker.tui.screens.base import MouScreen

PERIOD = Field("period", "Period", "period", required=True)
AS_OF = Field("as_of", "As of", "date")
OUTPUT = Field("output", "Output file", required=True, max_len=1000)


def report_writer() -> Any:
    """``generate_report`` when the report feature is installed, else None."""
    name = "mou_tracker.reports"
    try:
        if importlib.util.find_spec(name) is None:
            return None
        return getattr(importlib.import_module(name), "generate_report", None)
    except Exception:  # a half-installed feature is as good as none
        return None


class ReportsScreen(MouScreen):
    MODE = "reports"
    AUTO_FOCUS = "#r-party"
    BINDINGS = [
        Binding("g", "generate", "Generate", tooltip="Write the Excel progress report"),
        Binding("ctrl+s", "generate", "Generate", show=False, tooltip="Write the report (also from inside a field)"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.generate = report_writer()
        self._output_touched = False

    def compose_body(self) -> ComposeResult:
        if self.generate is None:
            yield Static("Excel progress reports are not available in this version yet: they arrive with the "
                         "report feature. Until then, the Indicators screen and `mou-tracker progress` show the "
                         "same figures.", id="reports-unavailable", classes="summary")
            return
        default_period = str(Quarter.latest_ended(self.ctx.reference_day))
        with VerticalScroll(id="report-form"):
            yield Label("Party *", classes="field-label")
            parties = self._parties()
            yield Select(parties, value="hti" if any(code == "hti" for _, code in parties) else parties[0][1],
                         allow_blank=False, id="r-party", compact=True)
            yield Label("Period * (a calendar quarter)", classes="field-label")
            yield Input(default_period, placeholder="YYYY-Qn, e.g. 2025-Q3", id="r-period", compact=True)
            yield Static(classes="field-error", id="e-period")
            yield Label("As of (state at the end of that day, rebuilt from the audit trail; empty = now)",
                        classes="field-label")
            yield Input(self.ctx.as_of.isoformat() if self.ctx.as_of else "", placeholder="YYYY-MM-DD",
                        id="r-as_of", compact=True)
            yield Static(classes="field-error", id="e-as_of")
            yield Label("Output file *", classes="field-label")
            yield Input(self._default_output("hti", default_period), id="r-output", compact=True)
            yield Static(classes="field-error", id="e-output")
            yield Checkbox("Include participant names (personal data: Kenya Data Protection Act 2019)",
                           id="r-names", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Generate (g)", id="generate", variant="primary", compact=True)
            yield ProgressBar(id="r-progress", show_eta=False)
            yield Static(id="r-result")

    def on_mount(self) -> None:
        super().on_mount()
        if self.generate is not None:
            self.query_one("#r-progress").display = False

    def action_leave_field(self) -> None:
        if self.generate is not None:
            self.query_one("#generate", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("generate", "leave_field") and self.generate is None:
            return False
        return super().check_action(action, parameters)

    def _parties(self) -> list[tuple[str, str]]:
        """The partnership's parties (HTI and ODPP; HTI and DCI for a DCI MoU), each one's report."""
        try:
            parties = self.ctx.reader.info().parties
        except MouError:  # as of a day before the partnership: the report itself will say so
            parties = ()
        return [(f"{p.code.upper()}: {p.name}", p.code) for p in parties] or [("HTI", "hti"), ("ODPP", "odpp")]

    @staticmethod
    def _default_output(party: str, period: str) -> str:
        return str(Path.cwd() / f"mou-progress-{party}-{period}.xlsx")

    @on(Input.Changed, "#r-output")
    def _output_edited(self, event: Input.Changed) -> None:
        if event.input.has_focus:
            self._output_touched = True

    @on(Select.Changed, "#r-party")
    @on(Input.Changed, "#r-period")
    def _suggest_output(self) -> None:
        if self._output_touched:
            return
        party = str(self.query_one("#r-party", Select).value)
        period = self.query_one("#r-period", Input).value.strip()
        with self.prevent(Input.Changed):
            self.query_one("#r-output", Input).value = self._default_output(party, period)

    def _parsed(self) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        for f in (PERIOD, AS_OF, OUTPUT):
            value, problem = f.parse(self.query_one(f"#r-{f.attr}", Input).value)
            error = self.query_one(f"#e-{f.attr}", Static)
            error.update(str(problem.message) if problem else "")
            error.set_class(problem is not None, "-shown")
            ok = ok and problem is None
            values[f.attr] = value
        return values if ok else None

    @on(Button.Pressed, "#generate")
    @on(Input.Submitted)
    def _pressed(self) -> None:
        self.action_generate()

    def action_generate(self) -> None:
        values = self._parsed()
        if values is None or self.generate is None:
            return
        values["party"] = str(self.query_one("#r-party", Select).value)
        values["names"] = self.query_one("#r-names", Checkbox).value
        bar = self.query_one("#r-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#r-result", Static).update("Writing the report…")
        button = self.query_one("#generate", Button)
        button.focus()  # out of the fields, so the screen keys work again
        button.disabled = True
        self._run(values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def _run(self, values: dict[str, Any]) -> None:
        worker = get_current_worker()
        bar = self.query_one("#r-progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(bar.update, total=total, progress=done)

        try:
            with self.ctx.reader.at(values["as_of"]) as reader:
                path = self.generate(reader, party=values["party"], period=Quarter.parse(values["period"]),
                                     output=Path(values["output"]).expanduser(),
                                     include_personal_data=values["names"], progress=progress)
        except Exception as exc:  # MouError: the user's to fix; anything else: logged, shown in one line
            self.app.call_from_thread(self._finished, None, exc)
            return
        self.app.call_from_thread(self._finished, path, None)

    def _finished(self, path: Path | None, exc: Exception | None) -> None:
        self.query_one("#generate", Button).disabled = False
        self.query_one("#r-progress", ProgressBar).display = path is not None
        result = self.query_one("#r-result", Static)
        if exc is not None:
            if isinstance(exc, MouError):
                result.update(Content.styled("\n".join(exc.lines()), "$error"))
            else:
                result.update("")
                self.mou.show_problem(exc)
            return
        result.update(Content.assemble(("✓ Report written to ", "$success"), (str(path), "bold")))
