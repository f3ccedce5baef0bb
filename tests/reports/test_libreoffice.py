"""A second spreadsheet program opens the reports: LibreOffice converts them to PDF headless. CI installs
LibreOffice, so there (CI=true) a missing `soffice` fails the test instead of skipping it.

The PDF pages are also checked the way a reader would look at them (with poppler's pdftotext): the tracking
table prints one fiscal year per page width, with the indicator column on every page, at 8 pt or more."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mou_tracker.db.models import User
from mou_tracker.services import Services
from tests.reports.conftest import PERIOD, run

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]
#: a word's box in pdftotext -bbox is about 1.3 times the font size (measured on LibreOffice's PDF pages)
BOX_PER_PT = 1.28
TITLE = re.compile(r"Indicatorperformancetrackingtable:FY\d{4}(?:/\d{2})?Q[1-4]\(\d{4}-Q[1-4]\)")
BAND = re.compile(r"(FY\d{4}(?:/\d{2})?) Q[1-4] \((\d{4}-Q[1-4])\)")


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required in CI for this test")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def _poppler() -> None:
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        if os.environ.get("CI") == "true":
            pytest.fail("poppler-utils (pdftotext, pdfinfo) are required in CI for this test")
        pytest.skip("poppler-utils are not installed")


@pytest.fixture(scope="module")
def pdfs(demo_reports, demo_sqlite, tmp_path_factory) -> dict[str, Path]:
    """Both party reports and a portfolio report (the demo and a second partnership), converted by LibreOffice
    in one run."""
    soffice = _soffice()
    folder = tmp_path_factory.mktemp("pdf")
    for name in ("hti", "odpp"):
        shutil.copy(demo_reports[name], folder / f"{name}.xlsx")
    db_file = folder / "two.db"
    shutil.copy(demo_sqlite, db_file)
    url = f"sqlite:///{db_file}"
    from mou_tracker.db.engine import Database

    db = Database(url)
    with db.reading() as s:
        admin = s.execute(select(User.name).where(User.role == "admin")).scalars().first()
    from datetime import date

    Services(db, admin).add_partnership(
        {"code": "UG-HTI-2026", "name": "=Uganda: HTI and the ODPP", "country": "Uganda",
         "start_date": date(2025, 6, 1)},
        [{"code": "hti", "name": "HTI", "fiscal_start_month": 10, "fiscal_label_style": "end_year",
          "currency": "USD"}])
    db.dispose()
    result = run("--db", url, "report", "--portfolio", "--period", PERIOD, "--output", str(folder / "portfolio.xlsx"))
    assert result.exit_code == 0, result.stderr
    profile = folder / "lo-profile"  # an own profile: no clash with another LibreOffice running
    names = ["hti", "odpp", "portfolio"]
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(folder), *(str(folder / f"{n}.xlsx") for n in names)],
                          capture_output=True, text=True, timeout=300, check=False)
    out = {n: folder / f"{n}.pdf" for n in names}
    assert done.returncode == 0 and all(p.is_file() for p in out.values()), done.stdout + done.stderr
    for pdf in out.values():
        assert pdf.read_bytes().startswith(b"%PDF")
    return out


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def _smallest_box(pdf: Path, page: int) -> float:
    xml = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    boxes = [float(b) - float(a) for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', xml)]
    return min(boxes)


def test_libreoffice_converts_every_report_to_pdf(pdfs):
    _poppler()
    info = subprocess.run(["pdfinfo", str(pdfs["odpp"])], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 11  # a page or more per sheet
    text = "".join("\n".join(_pages(pdfs["odpp"])).split())  # a title wrapped over lines reads as one
    for expected in ("MoU progress report for Office of the Director of Public Prosecutions",
                     "Indicator performance tracking table: FY2026/27 Q1 (2026-Q3)", "Trainings to the end",
                     "Milestone history", "Budget against spending", "Significant developments of 2026-Q3",
                     "Sign-off of 2026-Q3"):
        assert "".join(expected.split()) in text, expected
    hti = "\n".join(_pages(pdfs["hti"]))
    assert "DRAFT SF-425 lines" in hti and "Federal share of unliquidated obligations" in hti
    portfolio = "\n".join(_pages(pdfs["portfolio"]))
    for expected in ("Portfolio progress report: FY2026 Q4", "Portfolio: FY2026 Q4 (2026-Q3)", "ODPP-HTI-2025",
                     "UG-HTI-2026", "=Uganda: HTI and the ODPP", "Training sessions held"):
        assert expected in portfolio, expected


def test_a_list_wider_than_a_page_prints_the_rest_of_its_rows_on_the_next_page(pdfs, demo_reports):
    """The trainings list is printed over several page widths (its font kept at 8 pt or more): the next page
    holds the other columns of the same rows (across, then down), so a reader turns one page to finish a row."""
    _poppler()
    wb = load_workbook(demo_reports["hti"])
    assert wb["Trainings"].page_setup.pageOrder == "overThenDown"
    pages = _pages(pdfs["hti"])
    first = next(n for n, text in enumerate(pages) if "Trainings to the end" in text)
    rows_first, rows_next = (re.findall(r"TR-\d{4}-\d{3}", pages[n]) for n in (first, first + 1))
    assert rows_first and rows_next == rows_first  # the same trainings, by the repeated ID column
    assert "Title" in pages[first] and "County" not in pages[first]
    assert "County" in pages[first + 1] and "Title" not in pages[first + 1]


@pytest.mark.parametrize("party, fiscal_years", [("hti", {"FY2026"}), ("odpp", {"FY2026/27"})])
def test_tracking_table_prints_one_fiscal_year_per_page_with_the_indicator_column(pdfs, party, fiscal_years):
    _poppler()
    pages = [(n, text) for n, text in enumerate(_pages(pdfs[party]), 1)
             if "Indicatorperformancetrackingtable" in "".join(text.split())]  # the title wraps
    # the identity and baseline columns, the report's fiscal year (earlier ones folded away), the cumulative
    # and status columns, then how means and shares were computed and the narratives
    assert len(pages) == 4, [n for n, _ in pages]
    seen_years = set()
    for n, text in pages:
        assert "Code" in text and "Training sessions held" in text and "Grant expenditure" in text, n
        # the whole title on every page, not cut where the repeated columns end
        assert TITLE.search("".join(text.split())), n
        bands = {fy for fy, _q in BAND.findall(text.split("\n", 1)[1])}  # below the sheet title
        assert len(bands) <= 1, (n, bands)  # never two fiscal years on one page width
        seen_years |= bands
        assert _smallest_box(pdfs[party], n) >= 8 * BOX_PER_PT, n  # nothing printed below 8 pt
    assert seen_years == fiscal_years
    quarters = pages[1][1]
    if party == "hti":  # the whole of FY2026 on one page width: its four quarters
        assert all(f"FY2026 Q{k}" in quarters for k in (1, 2, 3, 4))
    assert "Baseline" in pages[0][1] and "Life-of-MoU" in pages[2][1]
    assert "Numerator" in pages[3][1] and "Narrative" in pages[3][1]
