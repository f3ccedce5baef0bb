"""Writing output files without ever damaging what we read: reports, exports, error copies, certificates.

Every file a command writes goes through ``atomic_output``: the target is checked first (never the database
file or its -wal/-shm/-journal companions, never a file the command is reading, and an ``.xlsx`` output only
to a path ending in ``.xlsx``), the content is written to a temporary file beside the target and renamed over
it only once complete. A run killed half-way leaves a ``.<name>.<pid>.mou-part`` file that the next run in the
same folder removes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mou_tracker.errors import MouError

PART_SUFFIX = ".mou-part"
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class OutputRefused(MouError):
    """The output path would overwrite something the command must not touch; nothing was written."""


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode, or the same place once symlinks are resolved."""
    try:
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    except OSError:
        pass
    real = [os.path.normcase(os.path.realpath(p)) for p in (a, b)]
    return real[0] == real[1] or os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def protected_paths(db_file: Path | None, inputs: Iterable[Path | str] = ()) -> list[tuple[Path, str]]:
    """Paths an output may never be: the database file and its companions, and the command's inputs."""
    out: list[tuple[Path, str]] = []
    if db_file is not None:
        for base in {str(db_file), os.path.realpath(db_file)}:
            for suffix in _SQLITE_COMPANIONS:
                what = "the database" if not suffix else f"the database's {suffix} file"
                out.append((Path(f"{base}{suffix}"), what))
    for item in inputs:
        out.append((Path(item), "the file this command is reading"))
    return out


def check_output(path: Path | str, *, suffix: str | None = None, db_file: Path | None = None,
                 inputs: Iterable[Path | str] = ()) -> Path:
    """The output path, expanded, after refusing a path that must not be written (see module docstring)."""
    out = Path(path).expanduser()
    for guarded, what in protected_paths(db_file, inputs):
        if _same(out, guarded):
            raise OutputRefused(f"{out} is {what}; refusing to overwrite it (nothing was written)")
    if suffix and out.suffix.lower() != suffix:
        raise OutputRefused(f"{out}: the output must be an {suffix} file (its name must end in {suffix}); "
                            "nothing was written")
    if out.is_dir():
        raise OutputRefused(f"{out} is a folder; name a file to write")
    if not out.parent.exists():
        raise OutputRefused(f"folder {out.parent} does not exist; nothing was written")
    return out


def clean_stale_parts(folder: Path) -> None:
    """Remove temporary files left in ``folder`` by a killed run (whose process is gone)."""
    with suppress(OSError):
        for item in folder.glob(f".*{PART_SUFFIX}"):
            pid = item.name[: -len(PART_SUFFIX)].rsplit(".", 1)[-1]
            if pid.isdigit() and _alive(int(pid)):
                continue
            with suppress(OSError):
                item.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def atomic_output(path: Path | str, *, suffix: str | None = None, db_file: Path | None = None,
                  inputs: Iterable[Path | str] = ()) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on any error it is removed."""
    out = check_output(path, suffix=suffix, db_file=db_file, inputs=inputs)
    clean_stale_parts(out.parent)
    tmp = out.with_name(f".{out.name}.{os.getpid()}{PART_SUFFIX}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        with suppress(OSError):
            tmp.unlink()


def write_atomic(path: Path | str, data: bytes | str, **checks: object) -> Path:
    """Write ``data`` to ``path`` through ``atomic_output`` (same checks); returns the path written."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(path, **checks) as tmp:  # type: ignore[arg-type]
        tmp.write_bytes(raw)
    return Path(path).expanduser()
