"""Docs that cannot drift (datasette's habit): every command and option of the CLI is documented in
docs/reference/cli.md, in the section of its own command."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from mou_tracker.cli import cli

CLI_DOC = Path(__file__).resolve().parents[1] / "docs" / "reference" / "cli.md"


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, path)


def sections() -> dict[str, str]:
    """Each heading's command path (`mou-tracker audit log` → "audit log") and the text under it."""
    text = CLI_DOC.read_text(encoding="utf-8")
    out: dict[str, str] = {}
    parts = re.split(r"^#+ (.*)$", text, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        m = re.fullmatch(r"`mou-tracker ?([a-z \-]*)`", heading.strip())
        out[m.group(1).strip() if m else heading.strip()] = body
    return out


def names(cmd: click.Command) -> list[str]:
    found = []
    for p in cmd.params:
        if isinstance(p, click.Option):
            found.append(p.opts[0])
        else:
            found.append(p.name.upper() if p.name else "")
    return [n for n in found if n]


ALL = list(commands(cli))


@pytest.mark.parametrize("path, cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_and_option_is_documented(path, cmd):
    doc = sections()
    key = " ".join(path)
    assert key in doc, f"docs/reference/cli.md has no section `mou-tracker {key}`"
    for name in names(cmd):
        shown = name if name.startswith("-") else f"`{name}`"
        assert f"`{name}" in doc[key] or shown in doc[key], f"`mou-tracker {key}`: {name} is not documented"


def test_global_options_are_documented():
    doc = sections()["Global options"]
    for name in names(cli):
        assert f"`{name}" in doc, name


def test_indicator_reference_agrees_with_the_framework():
    from mou_tracker.services.framework import STANDARD_INDICATORS

    text = (CLI_DOC.parent / "indicators.md").read_text(encoding="utf-8")
    for d in STANDARD_INDICATORS:
        row = f"| {d.code} | {d.name} | {d.unit} | {d.kind} | {d.how_computed} |"
        assert row in text, f"docs/reference/indicators.md is out of date for {d.code}"


def test_import_format_reference_lists_every_sheet_and_column():
    from mou_tracker.imports.sheets import SHEETS

    text = (CLI_DOC.parent / "import-format.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    for spec in SHEETS:
        assert spec.name in rows, f"sheet {spec.name} is not documented"
        for f in spec.columns:
            mark = "*" if f.required else ""
            assert f"{f.label}{mark}" in rows[spec.name], f"{spec.name}: column {f.label}{mark} is not documented"


ROOT = Path(__file__).resolve().parents[1]
CODE = [p for folder in ("mou_tracker", "migrations", "benchmarks", "tests") for p in (ROOT / folder).rglob("*.py")]


def test_the_code_cites_the_projects_own_docs_never_an_outside_spec():
    """A maintainer can look up every reference: comments point to docs/ in this repository."""
    cites = re.compile(r"\bSPEC(?:'s)?\b(?! ?=)(?!_)")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in CODE if p.name != "test_docs.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if cites.search(line)]
    assert not found, f"cite docs/reference/*.md instead: {found}"


def test_every_docs_page_the_code_cites_exists():
    cited = {m for p in CODE for m in re.findall(r"docs/(?:reference/)?[\w-]+\.md", p.read_text(encoding="utf-8"))}
    assert cited, "the code points to its docs"
    missing = sorted(c for c in cited if not (ROOT / c).is_file())
    assert not missing, missing
