"""Units: strings and quantities in, SI floats inside, readable quantities out."""
import math
import subprocess
import sys

import pytest

from mlsysim.errors import InputError, MlsysimError, UnitError
from mlsysim.units import SIValue, format_si, parse


@pytest.mark.parametrize("text, unit, si", [
    ("80 GiB", "B", 80 * 2**30),
    ("80 GB", "B", 80e9),
    ("3.35 TB/s", "B/s", 3.35e12),
    ("400 Gbps", "B/s", 50e9),          # 1 Gbps = 0.125 GB/s
    ("989.4 TFLOP/s", "FLOP/s", 989.4e12),
    ("1979 TOPS", "FLOP/s", 1979e12),
    ("1 kWh", "J", 3.6e6),
    ("700 W", "W", 700.0),
    ("5 us", "s", 5e-6),
    ("20 gCO2/kWh", "kg/J", 20e-3 / 3.6e6),
    ("3 Bparam", "param", 3e9),
])
def test_parse_known_units(text, unit, si):
    assert parse(text, unit, "x") == pytest.approx(si, rel=1e-12)


def test_bare_numbers_are_in_the_documented_unit():
    assert parse(3, "GB", "capacity") == 3e9
    assert parse(2.5, "ms", "latency") == pytest.approx(2.5e-3)


@pytest.mark.parametrize("value, unit", [("3 s", "B"), ("80 GiB", "B/s"), ("1 TFLOP/s", "B/s")])
def test_wrong_dimension_is_one_clear_error(value, unit):
    with pytest.raises(UnitError, match="must be in"):
        parse(value, unit, "memory bandwidth")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, "abc GB", True])
def test_bad_numbers_rejected(value):
    with pytest.raises(InputError):
        parse(value, "B", "capacity")


def test_pint_quantities_are_read_and_pint_is_lazy():
    code = ("import sys, mlsysim; from mlsysim.units import parse, Q_;"
            "assert 'pint' not in sys.modules; v = parse(Q_(2, 'GiB'), 'B', 'x');"
            "assert v == 2 * 2**30; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_sivalue_behaves_like_a_quantity():
    lat = SIValue(5.4e-4, "ms")
    assert lat.magnitude == pytest.approx(0.54)
    assert lat.m_as("us") == pytest.approx(540)
    assert float(lat) == pytest.approx(5.4e-4)          # arithmetic stays in SI
    assert str(lat) == "0.540 ms"
    assert lat.to("s").magnitude == pytest.approx(5.4e-4)
    assert math.isclose(lat * 2, 1.08e-3)
    with pytest.raises(UnitError):
        lat.m_as("GB")


def test_decimal_and_binary_gigabytes_differ():
    assert parse("1 GiB", "B", "x") / parse("1 GB", "B", "x") == pytest.approx(1.073741824)


def test_formatting_picks_a_readable_prefix():
    assert format_si(3.35e12, "B/s") == "3.35 TB/s"
    assert format_si(989.4e12, "FLOP/s") == "989 TFLOP/s"
    assert format_si(5.4e-4, "s") == "540 µs"
    assert format_si(85.904e9, "B") == "85.9 GB" and format_si(1.2e6, "J/s") == "1.20 MW"


@pytest.mark.parametrize("x, text", [(6.624, "6.62"), (85.904, "85.9"), (123.4, "123"), (0.54321, "0.543"),
                                     (0.00543, "0.00543"), (9.996, "10.0"), (8, "8"), (1234.5, "1,234"),
                                     (-3.14159, "-3.14"), (5.43e-4, "5.43e-04")])
def test_numbers_read_with_three_significant_figures(x, text):
    from mlsysim.units import format_number

    assert format_number(x) == text


def test_errors_share_one_base():
    assert issubclass(UnitError, MlsysimError) and issubclass(UnitError, ValueError)


@pytest.mark.parametrize("path", ["mlsysim", "mlsysim.units", "mlsysim.core.constants", "mlsysim.core"])
def test_Q_and_ureg_importable_from_every_published_path(path):
    import importlib

    mod = importlib.import_module(path)
    assert mod.Q_(1, "GB").to("MB").magnitude == pytest.approx(1000)
    assert mod.ureg is importlib.import_module("mlsysim.units").ureg
