"""The mapping file of a form-tool import: which form field fills which column of the import sheets.

A TOML file (documented in docs/reference/import-format.md, with commented examples in templates/forms/):

    [form]
    tool = "kobo"                 # or "odk"; optional, recognised from the export when left out
    id_prefix = "AR-"             # "@key" values: this prefix, then the submission's uuid

    [sheets.Trainings]
    from = "main"                 # one row per submission; or a repeat group's name: one row per entry
    [sheets.Trainings.columns]
    "Training ID" = "@key"        # the submission's own key (stable across exports)
    Title = "training_title"      # a form field, by its name or its full group path
    Lead = "=Joint"               # a constant
    [sheets.Trainings.choices.Delivery]
    in_person = "In person"       # a choice's name in the form -> the import sheet's value

Every mistake is reported with the key that holds it (``sheets.Trainings.columns."Start date": ...``), all of
them at once (a file that is not TOML, or not there, is the one exception); the loaded mapping says nothing
about the export yet: the fields are looked up in ``forms``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mou_tracker.imports.sheets import SHEETS, SheetSpec, spec_for

TOOLS = ("kobo", "odk")
#: the longest prefix an ``@key`` may take (IDs are at most 60 characters; a uuid takes 36)
MAX_PREFIX = 24
MAIN = "main"
KEY = "@key"


class MappingRefused(Exception):
    """The mapping file cannot be used; each message names the key at fault."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class Gather:
    """Collects every mistake instead of stopping at the first: each ``with gather.one():`` block is checked
    on its own; ``done()`` raises them all together."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    @contextmanager
    def one(self) -> Iterator[None]:
        try:
            yield
        except MappingRefused as exc:
            self.messages.extend(exc.messages)

    def done(self) -> None:
        if self.messages:
            raise MappingRefused(*self.messages)


@dataclass(frozen=True)
class Source:
    """Where one import column's values come from: a form field, a constant, or the submission key."""

    column: str  # the import sheet's column label
    attr: str
    form_field: str | None = None
    constant: str | None = None
    submission_key: bool = False
    choices: dict[str, str] = field(default_factory=dict)

    def translate(self, value: Any) -> Any:
        """A choice's name as the import sheet's value (unknown values pass through and are checked as is)."""
        if self.choices and isinstance(value, str):
            text = value.strip()
            return self.choices.get(text, self.choices.get(text.casefold(), value))
        return value


@dataclass(frozen=True)
class SheetMapping:
    spec: SheetSpec
    table: str  # "main" or a repeat group's name
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class FormMapping:
    path: Path
    tool: str | None
    id_prefix: str
    sheets: tuple[SheetMapping, ...]


def _key(*parts: str) -> str:
    return ".".join(p if p.replace("_", "").replace("-", "").isalnum() else f'"{p}"' for p in parts)


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingRefused(f"{where}: must be a table ([{where}]), not {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingRefused(f"{where}: must be a non-empty text in quotes")
    return value.strip()


def _unknown(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [f"{where}.{_key(k)}" if where else _key(k) for k in table if k not in allowed]
    if unknown:
        raise MappingRefused(*(f"{place}: unknown key; the keys here are " + ", ".join(allowed)
                               for place in unknown))


def load_mapping(path: str | Path) -> FormMapping:
    """Read and check a mapping file; ``MappingRefused`` says what is wrong and where."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingRefused("no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingRefused(f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingRefused(f"is not valid TOML: {exc}") from None
    gather = Gather()
    with gather.one():
        _unknown(raw, ("form", "sheets"), "")
    form: dict[str, Any] = {}
    with gather.one():
        form = _table(raw.get("form", {}), "form")
    with gather.one():
        _unknown(form, ("tool", "id_prefix", "title"), "form")
    tool = form.get("tool")
    with gather.one():
        if tool is not None:
            tool = _text(tool, "form.tool").casefold()
            if tool not in TOOLS:
                raise MappingRefused(f"form.tool: '{form['tool']}' is not one of " + ", ".join(TOOLS))
    prefix = form.get("id_prefix", "")
    with gather.one():
        if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX:
            raise MappingRefused(f"form.id_prefix: must be a text of at most {MAX_PREFIX} characters")
    with gather.one():
        if "title" in form:
            _text(form["title"], "form.title")
    sheets: list[SheetMapping] = []
    with gather.one():
        sheets_raw = _table(raw.get("sheets"), "sheets") if "sheets" in raw else {}
        if not sheets_raw:
            raise MappingRefused("sheets: no sheet is mapped; add at least one, e.g. [sheets.Trainings]")
        for name, value in sheets_raw.items():
            with gather.one():
                sheets.append(_sheet(name, value))
    gather.done()
    return FormMapping(path, tool, prefix, tuple(sheets))


def _sheet(name: str, value: Any) -> SheetMapping:
    where = _key("sheets", name)
    spec = spec_for(name)
    if spec is None:
        raise MappingRefused(f"{where}: '{name}' is not one of the import sheets (" +
                             ", ".join(s.name for s in SHEETS) + ")")
    table = _table(value, where)
    gather = Gather()
    with gather.one():
        _unknown(table, ("from", "columns", "choices"), where)
    origin = MAIN
    with gather.one():
        origin = _text(table.get("from", MAIN), f"{where}.from")
    columns: dict[str, Any] = {}
    with gather.one():
        columns = _table(table.get("columns"), f"{where}.columns") if "columns" in table else {}
    choices: dict[str, Any] = {}
    with gather.one():
        choices = _table(table.get("choices", {}), f"{where}.choices")
    sources: list[Source] = []
    seen: set[str] = set()
    for label, ref in columns.items():
        with gather.one():
            place = f"{where}.columns.{_key(label)}"
            f = spec.field_for(label)
            if f is None or f.attr == "grant_code":
                raise MappingRefused(f"{place}: '{label}' is not a column of the {spec.name} sheet (" +
                                     ", ".join(x.label for x in spec.columns) + ")")
            if f.attr in seen:
                raise MappingRefused(f"{place}: the column '{f.label}' is mapped twice")
            seen.add(f.attr)
            text = _text(ref, place)
            column_choices = _choices(choices.get(label, choices.get(f.label, {})),
                                      f"{where}.choices.{_key(label)}")
            if text == KEY:
                sources.append(Source(f.label, f.attr, submission_key=True))
            elif text.startswith("="):
                sources.append(Source(f.label, f.attr, constant=text[1:]))
            elif text.startswith("@"):
                raise MappingRefused(f"{place}: '{text}' is not known; write @key (the submission's key), =TEXT "
                                     "(a constant) or a form field's name")
            else:
                sources.append(Source(f.label, f.attr, form_field=text, choices=column_choices))
    # what the file maps, its mistakes included (a column written with a bad source is not "not mapped" too)
    written = {f.attr for f in map(spec.field_for, columns) if f is not None}
    for label in choices:
        f = spec.field_for(label)
        if f is None or f.attr not in written:
            gather.messages.append(f"{where}.choices.{_key(label)}: '{label}' is not a mapped column of this sheet")
    missing = [f.label for f in spec.required if f.attr not in written]
    if missing:
        gather.messages.append(f"{where}.columns: the required column{'s' if len(missing) > 1 else ''} " +
                               ", ".join(f"'{m}'" for m in missing) + (" are" if len(missing) > 1 else " is") +
                               " not mapped")
    gather.done()
    return SheetMapping(spec, origin, tuple(sources))


def _choices(value: Any, where: str) -> dict[str, str]:
    table = _table(value, where)
    out: dict[str, str] = {}
    gather = Gather()
    for name, target in table.items():
        with gather.one():
            out[str(name)] = _text(target, f"{where}.{_key(str(name))}")
            out.setdefault(str(name).casefold(), out[str(name)])
    gather.done()
    return out
