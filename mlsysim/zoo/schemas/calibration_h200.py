"""Schema of ``calibration_h200.yaml``: the H200's default timing constants, laid out as calibration.yaml."""
from ..facts import register
from .calibration import SCHEMA

register("calibration_h200", SCHEMA, entry_depth=1)
