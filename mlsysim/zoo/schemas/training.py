"""Schema of ``training.yaml``: optimizer state per parameter, and the buffers a training framework holds."""
from ..facts import block, entries, flag, integer, number, positive, register, required, text

OPTIMIZER = block(moments=required(integer(ge=0)), moment_bytes=required(number(ge=0)), block=required(integer(ge=0)),
                  block_bytes=required(number(ge=0)), factored=required(flag),
                  source=required(text))


def _figure(value):
    return required(block(value=required(value), source=required(text)))


BUFFERS = block(ddp_bucket_bytes=_figure(number(ge=0)),
                fsdp_units_in_flight=_figure(positive), nf4_bits_per_parameter=_figure(positive))

register("training", block(optimizers=required(entries(OPTIMIZER)), buffers=required(BUFFERS)), entry_depth=1)
