"""The terminal UI's remembered choices, kept in ``settings.json`` in the user config folder
(``platformdirs.user_config_dir("mou-tracker")``, e.g. ``~/.config/mou-tracker/settings.json`` on Linux).

Settings (each optional in the file; a missing, unreadable or malformed file means the defaults):

- ``theme``: the name of the Textual theme (chosen with ctrl+p → "Change theme"); default ``textual-dark``.
- ``partnership``: the code of the partnership last switched to (``w``), opened next time when the database
  holds several and no ``--partnership`` is given; default none.

The file is rewritten (atomically) whenever a choice changes; keys it does not know are kept.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mou_tracker.paths import config_dir

FILE_NAME = "settings.json"


@dataclass(frozen=True)
class UISettings:
    theme: str = "textual-dark"
    partnership: str = ""


def settings_path() -> Path:
    return config_dir() / FILE_NAME


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(path: Path | None = None) -> UISettings:
    """The remembered settings; a value of the wrong type is ignored (its default is used)."""
    data = _read(path or settings_path())
    defaults = UISettings()
    chosen = {f.name: data[f.name] for f in fields(UISettings)
              if isinstance(data.get(f.name), type(getattr(defaults, f.name)))}
    return UISettings(**chosen)


def save(settings: UISettings, path: Path | None = None) -> bool:
    """Write the settings (keeping keys this version does not know); False when the folder is not
    writable (the choice then lasts for this session only)."""
    path = path or settings_path()
    data = {**_read(path), **{k: v for k, v in asdict(settings).items() if v != ""}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True
