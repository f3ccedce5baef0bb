"""The app's screens, one per navigation tab: this registry is the one place that lists them, with their
keys and titles (the navigation bar, the app's modes, key bindings and command palette all read it). Each
screen's module is imported on first use, so the app starts with the dashboard's code only."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScreenInfo:
    """One navigation tab: its mode name, the key that opens it, its title (the navigation bar's word), its
    heading (the title line's) and where its class lives."""

    mode: str
    key: str
    title: str
    heading: str
    module: str
    cls: str
    #: the navigation bar's word when the full titles do not fit (at 80 columns)
    short: str = ""
    #: shown in the navigation bar only when the database holds several partnerships (its key and the
    #: palette reach it always)
    several_only: bool = False

    def load(self) -> Any:
        """The screen's class (imports its module the first time)."""
        return getattr(importlib.import_module(f"mou_tracker.tui.screens.{self.module}"), self.cls)


#: every screen, in the order of the navigation bar
SCREENS: tuple[ScreenInfo, ...] = (
    ScreenInfo("dashboard", "1", "Dashboard", "Dashboard", "dashboard", "DashboardScreen", "Dash"),
    ScreenInfo("indicators", "2", "Indicators", "Indicators", "indicators", "IndicatorsScreen", "Indic."),
    ScreenInfo("trainings", "3", "Trainings", "Trainings", "trainings", "TrainingsScreen", "Train."),
    ScreenInfo("support", "4", "Support", "Technical support", "support", "SupportScreen", "Supp."),
    ScreenInfo("milestones", "5", "Milestones", "Milestones", "milestones", "MilestonesScreen", "Miles."),
    ScreenInfo("grant", "6", "Grant", "Grant", "grant", "GrantScreen"),
    ScreenInfo("reports", "7", "Reports", "Reports", "reports", "ReportsScreen", "Rep."),
    ScreenInfo("audit", "8", "Audit", "Audit trail", "audit", "AuditScreen"),
    ScreenInfo("developments", "9", "Developments", "Significant developments", "developments",
               "DevelopmentsScreen", "Devts"),
    ScreenInfo("portfolio", "0", "Portfolio", "Portfolio", "portfolio", "PortfolioScreen", "Portf.",
               several_only=True),
)
BY_MODE = {s.mode: s for s in SCREENS}


def screen_class(mode: str) -> Any:
    return BY_MODE[mode].load()


def make_screen(mode: str) -> Any:
    return screen_class(mode)()
