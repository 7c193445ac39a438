"""`socobs rothc site`: a drop-in for the official RothC executable on official input files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputFileError
from pipeline.rothc.site import read_site

DATA = Path(__file__).parents[1] / "data" / "rothc"


def socobs(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pipeline.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_site_cli_reproduces_official_outputs(tmp_path):
    out = socobs("rothc", "site", str(DATA / "RothC_input.dat"), "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "20916 months" in out.stdout
    got_y = np.genfromtxt(tmp_path / "year_results.csv", delimiter=",", names=True)
    ref_y = np.genfromtxt(DATA / "year_results.out", delimiter=",", names=True)
    got_m = np.genfromtxt(tmp_path / "month_results.csv", delimiter=",", names=True)
    ref_m = np.genfromtxt(DATA / "month_results.out", delimiter=",", names=True)
    assert len(got_y) == len(ref_y) == 71 and len(got_m) == len(ref_m) == 830
    for col in ("Year", "Month"):
        np.testing.assert_array_equal(got_y[col], ref_y[col])
        np.testing.assert_array_equal(got_m[col], ref_m[col])
    pools = ["DPM_t_C_ha", "RPM_t_C_ha", "BIO_t_C_ha", "HUM_t_C_ha", "IOM_t_C_ha", "SOC_t_C_ha"]
    for col in pools:
        np.testing.assert_allclose(got_y[col], ref_y[col], atol=1e-4)
        np.testing.assert_allclose(got_m[col], ref_m[col], atol=1e-4)
    np.testing.assert_allclose(got_m["CO2_t_C_ha"], ref_m["CO2_t_C_ha"], atol=1e-4)
    np.testing.assert_allclose(got_y["CO2_t_C_ha"][2:], ref_y["CO2_t_C_ha"][2:], atol=1e-4)
    fwd = slice(2, None)
    np.testing.assert_allclose(got_m["RM_TMP"][fwd], ref_m["RM_TMP"][fwd], atol=5.01e-5)
    np.testing.assert_allclose(got_m["RM_Moist"][fwd], ref_m["RM_Moist"][fwd], atol=5.01e-5)
    # The official file calls the deficit column SWC in older releases, SMD_mm here.
    np.testing.assert_allclose(got_m["SMD_mm"][fwd], ref_m["SMD_mm"][fwd], atol=5.01e-3)


def test_site_cli_many_files(tmp_path):
    a, b = tmp_path / "a.dat", tmp_path / "b.dat"
    text = (DATA / "RothC_input.dat").read_text()
    a.write_text(text)
    b.write_text(text.replace("23.4\t23.0", "40.0\t23.0"))  # more clay
    out = socobs("rothc", "site", str(a), str(b), "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    soc = [
        np.genfromtxt(tmp_path / "out" / n / "year_results.csv", delimiter=",", names=True)["SOC_t_C_ha"][1]
        for n in ("a", "b")
    ]
    assert soc[1] > soc[0]  # more clay retains more carbon


def test_bad_site_files(tmp_path):
    with pytest.raises(InputFileError, match="cannot read the RothC input file"):
        read_site(tmp_path / "missing.dat")
    lines = (DATA / "RothC_input.dat").read_text().splitlines()
    short = tmp_path / "short.dat"
    short.write_text("\n".join(lines[:40]))
    with pytest.raises(InputFileError, match="nsteps says 840 monthly rows, the file has 30"):
        read_site(short)
    broken = tmp_path / "broken.dat"
    broken.write_text("\n".join([*lines[:7], "23.4 23.0 abc 840 58.6 1.27 0.94 0.2", *lines[8:]]))
    with pytest.raises(InputFileError, match=r"broken.dat:8: expected 8 numbers"):
        read_site(broken)
    out = socobs("rothc", "site", str(short), "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "nsteps says 840" in out.stderr
    assert not (tmp_path / "o").exists()
