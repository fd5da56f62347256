"""Schema of ``power.yaml``: the power conventions, each a value and its source."""
from ..facts import block, count, fraction, positive, register, required, text


def _figure(value):
    return required(block(value=required(value), source=required(text)))


SCHEMA = block(idle_fraction=_figure(fraction), training_node_power_fraction=_figure(fraction),
               host_to_accelerator_ratio=_figure(positive), switch_radix=_figure(count),
               switch_power_w=_figure(positive))

register("power", SCHEMA, entry_depth=1)
