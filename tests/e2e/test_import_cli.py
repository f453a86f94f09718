"""`gateway import attendance FILE` takes a feed as the API would, and says what happened."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess
import sys

from tests.attendance_support import csv_feed, pattern_rows, school_days
from tests.support import make_upn

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "ctf"


def gateway(tmp_path: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_csv_file_is_imported_then_recognised_when_sent_again(tmp_path: pathlib.Path) -> None:
    assert gateway(tmp_path, "migrate").returncode == 0
    feed = tmp_path / "register.csv"
    days = school_days(dt.date(2025, 9, 1), 3)
    unknown_code = ("120456", make_upn(2), "2025-09-01", "Q9", "/")
    rows = [*pattern_rows(make_upn(1), days, [("/", "\\")]), unknown_code]
    feed.write_bytes(csv_feed(rows))
    first = gateway(tmp_path, "import", "attendance", str(feed), "--academic-year", "2025")
    assert first.returncode == 0, first.stderr
    assert "3 accepted, 1 rejected" in first.stdout
    assert "line 5: am: unknown register code 'Q9'" in first.stdout
    again = gateway(tmp_path, "import", "attendance", str(feed), "--academic-year", "2025")
    assert "already received as feed" in again.stdout


def test_a_malformed_ctf_is_refused_with_its_position(tmp_path: pathlib.Path) -> None:
    gateway(tmp_path, "migrate")
    done = gateway(tmp_path, "import", "attendance", str(FIXTURES / "ctf_unclosed.xml"))
    assert done.returncode == 1
    assert "rejected" in done.stderr
    assert "line" in done.stderr


def test_the_gias_extract_is_imported_with_its_error_report(tmp_path: pathlib.Path) -> None:
    assert gateway(tmp_path, "migrate").returncode == 0
    gias = pathlib.Path(__file__).parents[1] / "fixtures" / "gias"
    first = gateway(tmp_path, "import", "gias", str(gias / "edubasealldata_sample.csv"))
    assert first.returncode == 0, first.stderr
    assert "25 rows, 25 added, 0 updated, 0 unchanged, 0 rejected" in first.stdout
    bad = gateway(tmp_path, "import", "gias", str(gias / "edubasealldata_bad_rows.csv"))
    assert bad.returncode == 0, bad.stderr
    assert "line 3: URN:" in bad.stdout
    broken = gateway(tmp_path, "import", "gias", str(gias / "broken.csv"))
    assert broken.returncode != 0
    assert "EstablishmentStatus (name)" in broken.stderr
    approved = pathlib.Path(__file__).parents[1] / "fixtures" / "providers"
    listed = gateway(
        tmp_path, "import", "approved-providers", str(approved / "approved_ap_sample.csv")
    )
    assert "7 rows, 7 added" in listed.stdout, listed.stderr


def test_an_authoritys_day_is_imported_from_a_directory_in_one_go(tmp_path: pathlib.Path) -> None:
    assert gateway(tmp_path, "migrate").returncode == 0
    day = tmp_path / "day"
    day.mkdir()
    days = school_days(dt.date(2025, 9, 1), 2)
    schools = ("120456", "120501", "120502")
    for n, urn in enumerate(schools):
        rows = [
            row
            for pupil in range(3)
            for row in pattern_rows(make_upn(10 * n + pupil), days, [("/", "\\")], school=urn)
        ]
        (day / f"{urn}.csv").write_bytes(csv_feed(rows))
    (day / "broken.csv").write_bytes(b"\xff\xfe not a register")
    (day / "notes.txt").write_text("not a feed: left alone")
    done = gateway(tmp_path, "import", "attendance", "--bulk", str(day), "--academic-year", "2025")
    assert done.returncode == 0, done.stderr
    assert "4 file(s): 3 applied, 0 already received, 1 refused" in done.stdout
    assert "18 records accepted, 0 rejected" in done.stdout
    assert "refused broken.csv:" in done.stdout
    again = gateway(tmp_path, "import", "attendance", "--bulk", str(day), "--academic-year", "2025")
    assert "0 applied, 3 already received, 1 refused" in again.stdout
    both = gateway(tmp_path, "import", "attendance", str(day / "120456.csv"), "--bulk", str(day))
    assert both.returncode == 2
    assert "not both" in both.stderr
