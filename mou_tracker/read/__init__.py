"""The read model: one ``Reader`` (live or as of a day) and its views, for the UI, the reports and the CLI.

``views`` holds the frozen dataclasses; ``lists``, ``audit``, ``status`` and ``report`` build them (one
function per view); ``labels`` names the fields. Nothing here writes: every write goes through
``services.Services``. (Names load on first use, so that importing ``read.views`` stays light.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["EventFilter", "ListRequest", "Page", "Reader", "entity_kind"]


def __getattr__(name: str) -> Any:
    if name == "Reader":
        from mou_tracker.read.reader import Reader

        return Reader
    if name in ("EventFilter", "entity_kind"):
        from mou_tracker.read import audit

        return getattr(audit, name)
    if name in ("ListRequest", "Page"):
        from mou_tracker.read import views

        return getattr(views, name)
    raise AttributeError(name)
