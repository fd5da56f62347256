"""Schema of ``links.yaml``: what a link is taken to be when a record does not say."""
from ..facts import Bandwidth, Time, block, register, required, text

SCHEMA = block(host_link=required(block(bandwidth=required(Bandwidth), source=required(text))),
               scale_up_latency=required(block(latency=required(Time), source=required(text))),
               fabric_latency=required(block(latency=required(Time), source=required(text))),
               collective_base_latency=required(block(latency=required(Time), source=required(text))))

register("links", SCHEMA, entry_depth=1)
