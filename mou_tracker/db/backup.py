"""Consistent backups while the app may be running.

SQLite: the online backup API copies a consistent snapshot page by page (writers may continue).
PostgreSQL: ``pg_dump`` (custom format, restore with ``pg_restore``) runs in one repeatable-read snapshot.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from mou_tracker.db.engine import Database, sqlite_path
from mou_tracker.errors import DatabaseProblem


def backup(db: Database, target: Path) -> Path:
    target = target.expanduser().resolve()
    if not target.parent.is_dir():
        raise DatabaseProblem(f"cannot write the backup: folder {target.parent} does not exist")
    source = sqlite_path(db.url)
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if db.dialect == "sqlite":
            if source is None:
                raise DatabaseProblem("an in-memory database cannot be backed up")
            if source.resolve() == target:
                raise DatabaseProblem("the backup file must not be the database itself")
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(tmp) as dst:
                src.execute("PRAGMA busy_timeout=60000")
                src.backup(dst)
            with sqlite3.connect(tmp) as dst:  # a single self-contained file, not WAL
                dst.execute("PRAGMA journal_mode=DELETE")
        else:
            _pg_dump(db, tmp)
        tmp.replace(target)
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"backup failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


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
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise DatabaseProblem(f"pg_dump failed: {detail}")
