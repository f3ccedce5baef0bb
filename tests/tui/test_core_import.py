"""Textual is imported only by the terminal UI: the core and the CLI's import path never load it."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

CHECK = """
import sys
import mou_tracker.services
import mou_tracker.read.reader
import mou_tracker.services.indicators
import mou_tracker.services.finance
import mou_tracker.cli
from click.testing import CliRunner
result = CliRunner().invoke(mou_tracker.cli.cli, ["--help"])
assert result.exit_code == 0, result.output
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(",".join(loaded) or "none")
"""


def test_core_and_cli_do_not_import_textual() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none", f"textual was imported by the core: {out.stdout}"


def test_the_check_would_notice_textual() -> None:
    """The same check, after importing the UI, does see Textual (so the test above can fail)."""
    code = CHECK.replace("import mou_tracker.cli\n", "import mou_tracker.cli\nimport mou_tracker.tui.app\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "textual.app" in out.stdout.split(",")


def test_tui_command_is_documented() -> None:
    from mou_tracker.cli import cli

    result = CliRunner().invoke(cli, ["tui", "--help"])
    assert result.exit_code == 0
    assert "--read-only" in result.output
