"""The app's screens, one per navigation tab (see ``widgets.SCREENS``). Each is imported on first use, so
the app starts with the dashboard's code only."""

from __future__ import annotations

import importlib
from typing import Any

#: mode -> (module, class)
SCREEN_CLASSES_BY_MODE = {
    "dashboard": ("dashboard", "DashboardScreen"),
    "indicators": ("indicators", "IndicatorsScreen"),
    "trainings": ("trainings", "TrainingsScreen"),
    "support": ("support", "SupportScreen"),
    "milestones": ("milestones", "MilestonesScreen"),
    "grant": ("grant", "GrantScreen"),
    "reports": ("reports", "ReportsScreen"),
    "audit": ("audit", "AuditScreen"),
}


def screen_class(mode: str) -> Any:
    module, name = SCREEN_CLASSES_BY_MODE[mode]
    return getattr(importlib.import_module(f"mou_tracker.tui.screens.{module}"), name)


def make_screen(mode: str) -> Any:
    return screen_class(mode)()
