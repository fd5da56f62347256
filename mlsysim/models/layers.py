"""A convolutional network given as a list of layers (a Python list of dicts, or a YAML file).

``cnn_from_layers`` walks the list with the building blocks of ``models/vision.py`` (its ``_Net``), tracking the
activation shape (channels, height, width), so every layer's parameters and multiply-accumulates come from the
shapes, exactly as for the zoo's generated CNNs, and the workload lowers through the same CNN family.

Layers (``type`` and its fields; every layer may also carry ``name`` and ``input``, an earlier layer it reads
instead of the one before it, for a branch such as a projection shortcut):

- ``conv``: out_channels, kernel (int or [h, w]), stride=1 (int or [h, w]), padding="same" ("same": output =
  ceil(input / stride); "valid"; or a whole number of pixels on each side), groups=1, bias=true, activation
- ``depthwise``: kernel, stride=1, padding="same", multiplier=1, bias=true, activation
- ``pool``: kernel, kind=max (max or avg), stride=kernel, padding=0, ceil_mode=false
- ``global_pool``: kind=avg; ``adaptive_pool``: output (int or [h, w]), kind=avg
- ``linear`` / ``fc``: out_features, bias=true, activation (over the flattened activation)
- ``batchnorm``; ``relu``; ``activation``: kind=relu
- ``add``: from (an earlier layer whose output is added: its index, or a negative offset (-1: the layer before),
  or its name), activation; ``concat``: from (one or a list), joined along channels with the current output
- ``flatten``; ``dropout`` (p; no work at inference)

Layers are numbered from 0 in the order given; ``input`` (or ``from``) may also name ``input``, the network's
input. Conventions are ``vision.py``'s: parameters count weights, biases and BatchNorm's two affine parameters per
channel; FLOPs are 2 x MACs; the workload's ``layers`` (its depth) counts the conv and linear layers on the
longest path. A YAML file holds ``name``, ``input`` ([channels, height, width]), ``layers`` and optionally
``parameters`` (checked against the count from the layers within 2%) and ``source``.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ..core.types import Metadata
from ..errors import InputError
from .families import CNN, Family
from .types import PARAMETER_TOLERANCE, CNNWorkload
from .vision import _Net

__all__ = ["LayerListCNN", "cnn_from_layers", "is_layer_file"]

DEFAULT_INPUT = (3, 224, 224)
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "sigmoid",
               "hardsigmoid", "hardswish", "tanh", "softmax")
_FILE_KEYS = ("name", "input", "layers", "parameters", "source")
_COMMON = ("type", "name", "input")
_NO_DEFAULT = object()
#: type: {field: default (_NO_DEFAULT: required)}
_SPEC = {
    "conv": {"out_channels": _NO_DEFAULT, "kernel": _NO_DEFAULT, "stride": 1, "padding": "same", "groups": 1,
             "bias": True, "activation": None},
    "depthwise": {"kernel": _NO_DEFAULT, "stride": 1, "padding": "same", "multiplier": 1, "bias": True,
                  "activation": None},
    "pool": {"kernel": _NO_DEFAULT, "kind": "max", "stride": None, "padding": 0, "ceil_mode": False},
    "global_pool": {"kind": "avg"},
    "adaptive_pool": {"output": _NO_DEFAULT, "kind": "avg"},
    "linear": {"out_features": _NO_DEFAULT, "bias": True, "activation": None},
    "batchnorm": {},
    "relu": {},
    "activation": {"kind": "relu"},
    "add": {"from": _NO_DEFAULT, "activation": None},
    "concat": {"from": _NO_DEFAULT},
    "flatten": {},
    "dropout": {"p": 0.5},
}
_ALIASES = {"fc": "linear"}
_POOL_KINDS = {"pool": ("max", "avg"), "global_pool": ("avg", "max"), "adaptive_pool": ("avg", "max")}


class LayerListCNN(CNNWorkload):
    """A CNN given layer by layer (``cnn_from_layers``): it holds its generated layers instead of an ``arch``."""

    #: the generated operators (``vision.Layer``), one image's worth
    layer_table: tuple = ()
    #: (channels, height, width) of one input image
    input_shape: tuple = DEFAULT_INPUT

    @cached_property
    def family(self) -> Family:
        return CNN

    def layer_list(self):
        return self.layer_table

    def parameter_count(self) -> float:
        if self.parameters is not None:
            return float(self.parameters)
        return float(sum(layer.params for layer in self.layer_table))

    def forward_flops(self) -> float:
        return 2.0 * sum(layer.macs for layer in self.layer_table)


def is_layer_file(path) -> bool:
    """Whether ``path`` is a YAML file whose top level holds a ``layers:`` key (a network, not a plan)."""
    p = Path(path)
    if p.suffix.lower() not in (".yaml", ".yml") or not p.is_file():
        return False
    import yaml

    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "layers" in data


def cnn_from_layers(layers, name: str | None = None, input_shape=None, source: str = "user-supplied layer list",
                    parameters: float | None = None) -> LayerListCNN:
    """The CNN workload a list of layers describes (see the module docstring for the layer types).

    ``layers``: a list of dicts, a path to a YAML file (``name``, ``input``, ``layers``, optional ``parameters`` and
    ``source``), or that file's content as a dict. ``input_shape``: (channels, height, width), default
    (3, 224, 224) or the file's ``input``. A stated ``parameters`` (argument, else the file's) must agree with the
    count derived from the layers within 2%. Every bad input is one ``InputError`` naming the layer and field.
    """
    where = None
    if isinstance(layers, (str, Path)):
        where = str(layers)
        layers = _read_file(Path(layers))
    if isinstance(layers, dict):
        spec, layers = layers, layers.get("layers")
        unknown = [k for k in spec if k not in _FILE_KEYS]
        label = where or "layer file"
        if unknown:
            raise InputError(f"{label}: unknown key '{unknown[0]}' (a layer file holds {', '.join(_FILE_KEYS)})")
        if "layers" not in spec:
            raise InputError(f"{label}: no 'layers' key (a layer file holds {', '.join(_FILE_KEYS)})")
        name = name or spec.get("name") or (Path(where).stem if where else None)
        input_shape = input_shape if input_shape is not None else spec.get("input")
        parameters = parameters if parameters is not None else spec.get("parameters")
        if spec.get("source") is not None:
            source = str(spec["source"])
        elif where:
            source = f"{source} ({where})"
    name = "custom_cnn" if name is None else name
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"a network's name must be a non-empty string, got {name!r}")
    shape = _input_shape(name, DEFAULT_INPUT if input_shape is None else input_shape)
    if not isinstance(layers, (list, tuple)) or not layers:
        got = type(layers).__name__ if layers is not None else "nothing"
        raise InputError(f"{name}: 'layers' must be a non-empty list of layers (dicts with a 'type'), got {got}")

    table, depth = _build(name, shape, layers)
    counted = sum(layer.params for layer in table)
    if parameters is not None:
        if isinstance(parameters, bool) or not isinstance(parameters, (int, float)) or not parameters > 0:
            raise InputError(f"{name}: a stated parameter count must be a positive number, got {parameters!r}")
        if abs(counted / parameters - 1.0) > PARAMETER_TOLERANCE:
            raise InputError(f"{name}: the stated {parameters:,.0f} parameters differ from the {counted:,} its layers "
                             f"hold ({counted / parameters - 1.0:+.1%}); correct one of them")
    c, h, w = shape
    return LayerListCNN(name=name, parameters=counted, layers=depth or None, resolution=h if h == w else None,
                        layer_table=tuple(table), input_shape=shape, metadata=Metadata(source=source))


# --- reading -----------------------------------------------------------------------------------------------
def _read_file(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise InputError(f"layer file '{path}' not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(f"{path}: malformed YAML at line {mark.line + 1}, column {mark.column + 1}: "
                         f"{exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot be read as YAML ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a layer file must be a mapping with name, input and layers")
    return data


def _whole(value) -> int | None:
    """``value`` as an int when it is a whole number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _input_shape(name: str, value) -> tuple[int, int, int]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    dims = [_whole(v) for v in items]
    if len(dims) not in (1, 3) or any(d is None or d < 1 for d in dims):
        raise InputError(f"{name}: input must be [channels, height, width] (or [features]) in whole numbers >= 1, "
                         f"got {value!r}")
    return (dims[0], 1, 1) if len(dims) == 1 else tuple(dims)


# --- building ----------------------------------------------------------------------------------------------
class _Layer:
    """One entry of the list being read: its fields, and one-sentence errors that name it."""

    def __init__(self, net: str, index: int, raw):
        self.net, self.index = net, index
        if not isinstance(raw, dict):
            raise InputError(f"{net}: layer {index} must be a mapping with a 'type', got {raw!r}")
        self.name = raw.get("name")
        kind = raw.get("type")
        if kind is None:
            raise self.error(f"has no 'type' (one of {', '.join(_types())})")
        key = _ALIASES.get(kind, kind) if isinstance(kind, str) else None
        if key not in _SPEC:
            import difflib

            close = difflib.get_close_matches(str(kind), _types(), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (one of {', '.join(_types())})"
            raise self.error(f"unknown layer type {kind!r}{hint}")
        self.type, self.kind = kind, key
        if self.name is not None and (not isinstance(self.name, str) or not self.name or self.name == "input"):
            raise self.error(f"'name' must be a non-empty string other than 'input', got {self.name!r}")
        spec = _SPEC[key]
        for field in raw:
            if field not in spec and field not in _COMMON:
                fields = ", ".join(list(spec) + ["name", "input"])
                raise self.error(f"unknown field '{field}' (a {kind} layer takes {fields})")
        for field, default in spec.items():
            if default is _NO_DEFAULT and field not in raw:
                raise self.error(f"missing '{field}'")
        self.raw = {**spec, **raw}

    def error(self, problem: str) -> InputError:
        kind = getattr(self, "type", None)
        label = f"{kind or 'layer'} {self.name!r}" if isinstance(self.name, str) and self.name else kind
        return InputError(f"{self.net}: layer {self.index}{f' ({label})' if label else ''}: {problem}")

    @property
    def op_name(self) -> str:
        return self.name or f"{self.index}.{self.kind}"

    def count(self, field: str, minimum: int = 1) -> int:
        value = self.raw[field]
        n = _whole(value)
        if n is None or n < minimum:
            raise self.error(f"'{field}' must be a whole number >= {minimum}, got {value!r}")
        return n

    def pair(self, field: str, minimum: int = 1) -> tuple[int, int]:
        """An int, or [h, w]."""
        value = self.raw[field]
        items = value if isinstance(value, (list, tuple)) else [value]
        dims = [_whole(v) for v in items]
        if len(dims) not in (1, 2) or any(d is None or d < minimum for d in dims):
            raise self.error(f"'{field}' must be a whole number >= {minimum} or a pair [height, width] of them, "
                             f"got {value!r}")
        return (dims[0], dims[0]) if len(dims) == 1 else (dims[0], dims[1])

    def flag(self, field: str) -> bool:
        value = self.raw[field]
        if not isinstance(value, bool):
            raise self.error(f"'{field}' must be true or false, got {value!r}")
        return value

    def choice(self, field: str, choices) -> str:
        value = self.raw[field]
        if value not in choices:
            raise self.error(f"'{field}' must be one of {', '.join(choices)}, got {value!r}")
        return value

    def activation(self) -> str | None:
        value = self.raw["activation"]
        if value is None or value in ("none", "linear", "identity"):
            return None
        return self.choice("activation", ACTIVATIONS)

    def padding(self) -> int | str:
        value = self.raw["padding"]
        if value in ("same", "valid"):
            return value
        n = _whole(value)
        if n is None or n < 0:
            raise self.error(f"'padding' must be 'same', 'valid' or a whole number >= 0, got {value!r}")
        return n


def _types() -> list[str]:
    return list(_SPEC) + list(_ALIASES)


def _fmt(shape: tuple[int, int, int]) -> str:
    return "x".join(str(d) for d in shape)


def _build(net_name: str, shape: tuple[int, int, int], raw_layers) -> tuple[list, int]:
    """Walk the list with ``vision._Net``; returns the generated layers and the depth (the most conv and linear
    layers on one path from the input to the output: 16 for VGG-16, 18 for ResNet-18, whose shortcuts are
    side paths)."""
    net = _Net(*shape)
    outputs: list[tuple[int, int, int]] = []     # each listed layer's output shape
    depths: list[int] = []                       # and the weight layers on the longest path to it
    names: dict[str, int] = {}
    depth = 0

    def earlier(layer: _Layer, field: str, ref) -> tuple[int, int, int]:
        """The output shape of the earlier layer ``ref`` names (an index, a negative offset, a name, 'input')."""
        return outputs[_index(layer, field, ref)] if ref != "input" else shape

    def depth_of(layer: _Layer, field: str, ref) -> int:
        return depths[_index(layer, field, ref)] if ref != "input" else 0

    def _index(layer: _Layer, field: str, ref) -> int:
        i = layer.index
        if isinstance(ref, str):
            if ref not in names:
                raise layer.error(f"'{field}' names '{ref}', which is no earlier layer's name")
            return names[ref]
        j = _whole(ref)
        if j is None:
            raise layer.error(f"'{field}' must be an earlier layer's index or name, got {ref!r}")
        target = i + j if j < 0 else j
        if not 0 <= target < i:
            raise layer.error(f"'{field}' refers to layer {target}, which is not an earlier layer")
        return target

    for index, raw in enumerate(raw_layers):
        layer = _Layer(net_name, index, raw)
        if layer.name is not None and layer.name in names:
            raise layer.error(f"the name '{layer.name}' is already layer {names[layer.name]}'s")
        if raw.get("input") is not None:
            net.goto(earlier(layer, "input", raw["input"]))
            depth = depth_of(layer, "input", raw["input"])
        kind, name = layer.kind, layer.op_name
        c, h, w = net.shape
        if kind in ("conv", "depthwise"):
            (kh, kw), (sh, sw) = layer.pair("kernel"), layer.pair("stride")
            pad = layer.padding()
            if kind == "conv":
                cout, groups = layer.count("out_channels"), layer.count("groups")
                if c % groups or cout % groups:
                    raise layer.error(f"'groups' ({groups}) must divide its {c} input channels and its {cout} "
                                      f"out_channels")
            else:
                groups = c
                cout = c * layer.count("multiplier")
            if pad != "same":
                p = 0 if pad == "valid" else pad
                if kh > h + 2 * p or kw > w + 2 * p:
                    raise layer.error(f"'kernel' {kh}x{kw} is larger than its {h}x{w} input"
                                      f"{f' padded by {p}' if p else ''}")
            net.conv(name, cout, kh, sh, groups=groups, pad=pad, bias=layer.flag("bias"), bn=False,
                     act=layer.activation(), kw=kw if kw != kh else 0, sw=sw if sw != sh else 0)
            depth += 1
        elif kind == "pool":
            layer.choice("kind", _POOL_KINDS[kind])
            k = layer.count("kernel")
            stride = k if layer.raw["stride"] is None else layer.count("stride")
            pad = layer.count("padding", minimum=0)
            if k > h + 2 * pad or k > w + 2 * pad:
                raise layer.error(f"'kernel' {k} is larger than its {h}x{w} input{f' padded by {pad}' if pad else ''}")
            if 2 * pad > k:
                raise layer.error(f"'padding' {pad} is more than half its kernel ({k})")
            net.pool(name, k, stride, pad=pad, ceil_mode=layer.flag("ceil_mode"))
        elif kind in ("global_pool", "adaptive_pool"):
            layer.choice("kind", _POOL_KINDS[kind])
            ho, wo = (1, 1) if kind == "global_pool" else layer.pair("output")
            net.resize(name, ho, wo)
        elif kind == "linear":
            net.linear(name, layer.count("out_features"), bias=layer.flag("bias"), act=layer.activation())
            depth += 1
        elif kind == "batchnorm":
            net.norm(name)
        elif kind == "relu":
            net.act(name)
        elif kind == "activation":
            net.act(f"{name}.{layer.choice('kind', ACTIVATIONS)}" if layer.name is None else name)
        elif kind == "add":
            other = earlier(layer, "from", layer.raw["from"])
            if other != net.shape:
                raise layer.error(f"cannot add the {_fmt(other)} output of '{layer.raw['from']}' to its "
                                  f"{_fmt(net.shape)} input: the shapes differ")
            act = layer.activation()
            depth = max(depth, depth_of(layer, "from", layer.raw["from"]))
            net.add(name)
            if act:
                net.act(f"{name}.{act}")
        elif kind == "concat":
            refs = layer.raw["from"] if isinstance(layer.raw["from"], (list, tuple)) else [layer.raw["from"]]
            if not refs:
                raise layer.error("'from' must name at least one earlier layer")
            shapes = [net.shape] + [earlier(layer, "from", r) for r in refs]
            for ref, s in zip(refs, shapes[1:]):
                if s[1:] != (h, w):
                    raise layer.error(f"cannot concatenate the {_fmt(s)} output of '{ref}' with its {_fmt(net.shape)} "
                                      f"input: the heights and widths differ")
            depth = max([depth] + [depth_of(layer, "from", r) for r in refs])
            net.concat(name, *shapes)
        elif kind == "flatten":
            net.goto((c * h * w, 1, 1))
        elif kind == "dropout":
            p = layer.raw["p"]
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
                raise layer.error(f"'p' must be a probability in [0, 1), got {p!r}")
        outputs.append(net.shape)
        depths.append(depth)
        if layer.name is not None:
            names[layer.name] = index
    return net.out, depth
