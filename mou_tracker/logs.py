"""The log file: tracebacks of bugs and database failures, for whoever supports the installation.

It lives in the user data folder, is readable by its owner only (created 0600, tightened if it was not), and
never holds SQL text or bound values (stored values of records, such as participants' names).
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from mou_tracker import __version__
from mou_tracker.paths import data_dir


def log_path() -> Path:
    return data_dir() / "mou-tracker.log"


def _safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` with every database error's SQL text and bound values left out.

    The log may be read by whoever supports the installation: it must not carry stored values (names)."""
    from sqlalchemy.exc import StatementError

    from mou_tracker.db.migrate import driver_message

    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        if isinstance(current, StatementError):
            message = f"{type(current).__name__}: {driver_message(current)} (SQL and parameters not logged)"
        elif type(current).__module__.startswith(("sqlite3", "psycopg")):
            message = f"{type(current).__name__}: {driver_message(current)}"
        else:
            message = "".join(traceback.format_exception_only(type(current), current)).strip()
        parts.append(f"Traceback (most recent call last):\n{frames}{message}")
        current = current.__cause__ or current.__context__
    return "\n\nCaused by:\n".join(parts)


def write_crash_log(exc: BaseException) -> str:
    """Append ``exc`` to the log, a file only its owner may read (created 0600, tightened if it was not)."""
    text_ = _safe_traceback(exc)
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(f"--- {datetime.now(UTC).isoformat()} mou-tracker {__version__}\n{text_}\n")
        return str(path)
    except OSError:
        return "(the log could not be written)"
