"""Schema of ``profiles.yaml``: ``<stack>: {...}``, one execution profile per software stack."""
from ...ops import FUSIONS
from ..facts import block, choice, entries, flag, items, names, register, required, text

PROFILE = block(name=required(text), aliases=names, launch=required(choice("eager", "graph")),
                host_dispatch=required(flag), host_ahead=required(flag), fuses=required(items(choice(*FUSIONS))),
                precisions=required(block(kv_cache=required(text), activations=required(text))),
                source=required(text))

register("profiles", entries(PROFILE), entry_depth=1)
