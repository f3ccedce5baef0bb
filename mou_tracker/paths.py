"""Where things live: the user data and config folders and the packaged migrations and templates."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "mou-tracker"
_PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Where the user's own settings live (the terminal UI's remembered choices)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def _resource(packaged: str, in_checkout: str) -> Path:
    # In a wheel the folders are shipped inside the package; in a source checkout they sit at the top.
    inside = _PACKAGE / packaged
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / in_checkout


def migrations_dir() -> Path:
    return _resource("_migrations", "migrations")


def templates_dir() -> Path:
    return _resource("_templates", "templates") / "xlsx"
