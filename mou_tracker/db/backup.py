"""Consistent backups while the app may be running.

SQLite: the online backup API copies a consistent snapshot page by page (writers may continue).
PostgreSQL: ``pg_dump`` (custom format, restore with ``pg_restore``) runs in one repeatable-read snapshot.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from mou_tracker.db.engine import Database, sqlite_path
from mou_tracker.errors import DatabaseProblem
from mou_tracker.outputs import atomic_output, check_output


def backup(db: Database, target: Path) -> Path:
    """Write the copy through a temporary file beside ``target``; never over the database or its companions."""
    source = sqlite_path(db.url)
    target = check_output(target, db_file=source)
    try:
        with atomic_output(target, db_file=source) as tmp:
            if db.dialect == "sqlite":
                if source is None:
                    raise DatabaseProblem("an in-memory database cannot be backed up")
                with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(tmp) as dst:
                    src.execute("PRAGMA busy_timeout=60000")
                    src.backup(dst)
                with sqlite3.connect(tmp) as dst:  # a single self-contained file, not WAL
                    dst.execute("PRAGMA journal_mode=DELETE")
                for companion in ("-journal", "-wal", "-shm"):  # the copy's own, beside the temporary file
                    Path(f"{tmp}{companion}").unlink(missing_ok=True)
            else:
                _pg_dump(db, tmp)
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"backup failed: {exc}") from exc
    return target.resolve()


def _pg_dump(db: Database, out: Path) -> None:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise DatabaseProblem("pg_dump is not installed; install the PostgreSQL client tools to back up PostgreSQL")
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = [exe, "--format=custom", "--file", str(out), "--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    for key, value in url.query.items():
        if key == "host":
            args += ["--host", str(value)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DatabaseProblem(f"pg_dump failed: {pg_dump_reason(done.stderr, done.returncode)}; no backup was written")


def pg_dump_reason(stderr: str, returncode: int) -> str:
    """pg_dump's reason for failing, in one line and without the SQL it ran (its last line is often
    ``detail: Query was: SELECT ...``, and no message may echo SQL text)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line and "Query was" not in line]
    if not errors:
        errors = [line for line in lines if "Query was" not in line and "detail:" not in line]
    if not errors:
        return f"exit {returncode}"
    reason = re.sub(r"^pg_dump:\s*(error:\s*)?", "", errors[0])
    return re.sub(r"^query failed:\s*(ERROR:\s*)?", "", reason)
