"""Display helpers print aligned, readable text and return it."""
from mlsysim.show import banner, info, table
from mlsysim.units import SIValue


def test_table_aligns_columns_and_formats_numbers(capsys):
    out = table(["Region", "Carbon (t)"], [["Quebec", 5.4], ["Poland", 109437.2]])
    lines = out.splitlines()
    assert capsys.readouterr().out.strip() == out.strip()
    assert lines[0].startswith("Region") and set(lines[1]) == {"─"}
    assert lines[3].endswith("109,437") and len({len(line) for line in lines[2:]}) == 1


def test_info_shows_quantities_with_units():
    out = info("Result", Latency=SIValue(5.4e-4, "ms"), Ratio="40x")
    assert "── Result" in out and "Latency:  0.540 ms" in out and "Ratio:" in out


def test_banner():
    assert banner("Two regions").strip() == "=== Two regions ==="
