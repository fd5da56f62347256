"""Write mlsysim/validation/bands.yaml: each validation category's band figures, from the suite as it stands.

Run after any change to a prediction or an anchor (a test fails while the file is stale):
    python scripts/fit_bands.py
"""
from __future__ import annotations

import sys

import yaml

from mlsysim.validation import run
from mlsysim.validation.bands import BANDS, fit


def bands_document() -> str:
    """The file's text: a header, then per category its anchor count, centre, sigma, between-device spread
    and the devices it measured (figures rounded to 6 digits so the file is stable)."""
    stats = fit(run())
    clean = {cat: {k: (round(v, 6) if isinstance(v, float) else v) for k, v in s.items()} for cat, s in stats.items()}
    head = ("# Written by scripts/fit_bands.py from the validation suite; do not edit by hand.\n"
            "# Per category: residuals ln(measured/predicted) as time (rates change sign); centre = their median,\n"
            "# sigma = their 10th-90th percentile range / (2 x 1.2816), between_devices = the spread of the\n"
            "# per-device medians (added in quadrature for a device the category never measured).\n")
    return head + yaml.safe_dump({"categories": clean}, sort_keys=True, width=110)


def main() -> int:
    BANDS.write_text(bands_document(), encoding="utf-8")
    print(f"wrote {BANDS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
