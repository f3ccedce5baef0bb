"""A second spreadsheet program opens the report: LibreOffice converts it to PDF headless. CI installs
LibreOffice, so there (CI=true) a missing `soffice` fails the test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required in CI for this test")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def test_libreoffice_converts_the_report_to_pdf(demo_reports, tmp_path: Path):
    soffice = _soffice()
    source = tmp_path / "odpp.xlsx"
    shutil.copy(demo_reports["odpp"], source)
    profile = tmp_path / "lo-profile"  # an own profile: no clash with another LibreOffice running
    result = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                            capture_output=True, text=True, timeout=240, check=False)
    pdf = tmp_path / "odpp.pdf"
    assert result.returncode == 0 and pdf.is_file(), result.stdout + result.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page\n") + data.count(b"/Type/Page") + data.count(b"/Type /Page ")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 10  # a page or more per sheet
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        for expected in ("MoU progress report for Office of the Director of Public Prosecutions",
                         "Indicator performance tracking table: FY2026/27 Q1 (2026-Q3)", "Trainings to the end",
                         "Milestone history", "Budget against spending", "Sign-off of 2026-Q3"):
            assert expected in text, expected
