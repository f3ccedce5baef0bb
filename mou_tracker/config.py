"""Settings: which database, which user. Command-line options win over the environment.

- ``MOU_TRACKER_DB``: a SQLAlchemy URL (``sqlite:///path.db`` or ``postgresql+psycopg://user@host/db``).
  Default: ``mou-tracker.db`` in the user data folder.
- ``MOU_TRACKER_USER``: the actor every change is attributed to. Default: the OS login.
"""

from __future__ import annotations

import getpass
import os

from mou_tracker.paths import data_dir

ENV_DB = "MOU_TRACKER_DB"
ENV_USER = "MOU_TRACKER_USER"


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'mou-tracker.db'}"


def resolve_db_url(option: str | None) -> str:
    return option or os.environ.get(ENV_DB) or default_db_url()


def resolve_user(option: str | None) -> str:
    name = option or os.environ.get(ENV_USER)
    if not name:
        try:
            name = getpass.getuser()
        except Exception:  # no login name (some containers)
            name = "unknown"
    return name.strip() or "unknown"
