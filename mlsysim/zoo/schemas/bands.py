"""Schema of ``bands.yaml``: each validation category's band figures (written by scripts/fit_bands.py)."""
from ..facts import block, entries, integer, items, number, register, required, text

CATEGORY = block(anchors=required(integer(ge=1)), centre=required(number()), sigma=required(number(ge=0)),
                 between_devices=required(number(ge=0)), devices=required(items(text)))

register("bands", block(categories=required(entries(CATEGORY))), entry_depth=1)
