"""Vision (and tiny) architectures generated layer by layer from their definitions.

Each generator walks the published architecture definition (torchvision, Ultralytics,
the papers) block by block, tracking the activation shape, and emits one `Layer` per
operator with its real shape, its parameters and its multiply-accumulates per image.
Nothing here is a table of totals: the totals are sums over the emitted layers, and
`tests/test_vision_architectures.py` checks them against the published counts.

Conventions
- Parameters count weights, biases and the two affine parameters of each BatchNorm /
  LayerNorm channel (torchvision convention; Keras additionally counts the two BN
  running statistics as non-trainable parameters).
- MACs count multiply-accumulates of convolutions, linears and attention matmuls
  (QK^T and AV); pools, norms, activations and adds count 0 MACs but report
  `elements` (output elements per image) so that a roofline can charge their traffic.
- Layer kinds: "conv", "linear", "attention", "pool" (spatial resampling: max/avg pool,
  global pool, nearest upsample), "norm" (BatchNorm/LayerNorm), "act" (elementwise
  activation), "add" (elementwise binary op: residual add, squeeze-excite channel scale,
  concat copy, positional-embedding add).
- Convolutions use `k`/`stride` for square kernels; `kw`/`sw` (0 = same as k/stride)
  hold the width when a kernel or stride is not square (DS-CNN's 10x4 first conv).
"""

from __future__ import annotations

from functools import lru_cache
from math import ceil
from typing import NamedTuple

__all__ = ["Layer", "layers", "ARCHS", "totals", "default_resolution"]


class Layer(NamedTuple):
    kind: str  # "conv" | "linear" | "attention" | "pool" | "norm" | "act" | "add"
    name: str
    cin: int = 0
    cout: int = 0
    k: int = 1
    stride: int = 1
    groups: int = 1
    h_in: int = 0
    w_in: int = 0
    h_out: int = 0
    w_out: int = 0
    tokens: int = 0  # linear: rows per image; attention: sequence length
    heads: int = 0
    head_dim: int = 0
    elements: int = 0  # pool/norm/act/add: output elements per image
    params: int = 0
    macs: int = 0
    kw: int = 0  # kernel width when not square (0: = k)
    sw: int = 0  # stride along width when not square (0: = stride)


def _make_divisible(v: float, divisor: int = 8) -> int:
    """Channel rounding used by MobileNet/EfficientNet/YOLO (round to nearest multiple,
    never dropping more than 10%)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class _Net:
    """Tracks the current activation (channels, height, width) and appends layers."""

    def __init__(self, c: int, h: int, w: int):
        self.c, self.h, self.w = c, h, w
        self.out: list[Layer] = []

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.c, self.h, self.w

    def goto(self, shape: tuple[int, int, int]) -> None:
        self.c, self.h, self.w = shape

    def _emit(self, **kw) -> None:
        self.out.append(Layer(**kw))

    # -- elementwise / normalization -------------------------------------------------
    def norm(self, name: str, affine: bool = True) -> None:
        n = self.c * self.h * self.w
        self._emit(kind="norm", name=name, cin=self.c, cout=self.c, h_in=self.h, w_in=self.w,
                   h_out=self.h, w_out=self.w, elements=n, params=2 * self.c if affine else 0)

    def act(self, name: str) -> None:
        self._emit(kind="act", name=name, cin=self.c, cout=self.c, h_in=self.h, w_in=self.w,
                   h_out=self.h, w_out=self.w, elements=self.c * self.h * self.w)

    def add(self, name: str) -> None:
        self._emit(kind="add", name=name, cin=self.c, cout=self.c, h_in=self.h, w_in=self.w,
                   h_out=self.h, w_out=self.w, elements=self.c * self.h * self.w)

    def concat(self, name: str, *shapes: tuple[int, int, int]) -> None:
        c = sum(s[0] for s in shapes)
        h, w = shapes[0][1], shapes[0][2]
        assert all(s[1:] == (h, w) for s in shapes), "concat of mismatched spatial sizes"
        self.goto((c, h, w))
        self.add(name)

    # -- convolution -----------------------------------------------------------------
    def conv(self, name: str, cout: int, k: int, stride: int = 1, groups: int = 1,
             pad: int | str | None = None, bias: bool = False, bn: bool = True,
             act: str | None = "relu", kw: int = 0, sw: int = 0,
             params: int | None = None, macs: int | None = None) -> None:
        kh, kw_ = k, (kw or k)
        sh, sw_ = stride, (sw or stride)
        cin, h, w = self.shape
        if pad == "same":  # TensorFlow "same": output = ceil(input / stride)
            ho, wo = ceil(h / sh), ceil(w / sw_)
        elif pad == "valid":
            ho, wo = (h - kh) // sh + 1, (w - kw_) // sw_ + 1
        else:  # PyTorch symmetric padding, (k-1)//2 unless given
            ph = (kh - 1) // 2 if pad is None else pad
            pw = (kw_ - 1) // 2 if pad is None else pad
            ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw_) // sw_ + 1
        assert cin % groups == 0 and cout % groups == 0, (name, cin, cout, groups)
        per_out = (cin // groups) * kh * kw_
        p = cout * per_out + (cout if bias else 0) if params is None else params
        m = ho * wo * cout * per_out if macs is None else macs
        self._emit(kind="conv", name=name, cin=cin, cout=cout, k=kh, stride=sh, groups=groups,
                   h_in=h, w_in=w, h_out=ho, w_out=wo, params=p, macs=m,
                   kw=kw_ if kw_ != kh else 0, sw=sw_ if sw_ != sh else 0)
        self.goto((cout, ho, wo))
        if bn:
            self.norm(name + ".bn")
        if act:
            self.act(f"{name}.{act}")

    def pool(self, name: str, k: int, stride: int | None = None, pad: int = 0,
             ceil_mode: bool = False) -> None:
        stride = stride or k
        c, h, w = self.shape
        f = ceil if ceil_mode else (lambda x: int(x // 1))
        ho = f((h + 2 * pad - k) / stride) + 1
        wo = f((w + 2 * pad - k) / stride) + 1
        self._emit(kind="pool", name=name, cin=c, cout=c, k=k, stride=stride, h_in=h, w_in=w,
                   h_out=ho, w_out=wo, elements=c * ho * wo)
        self.goto((c, ho, wo))

    def resize(self, name: str, ho: int, wo: int) -> None:
        """Adaptive/global average pool or nearest upsample to a fixed output size."""
        c, h, w = self.shape
        self._emit(kind="pool", name=name, cin=c, cout=c, k=max(1, h // ho), stride=max(1, h // ho),
                   h_in=h, w_in=w, h_out=ho, w_out=wo, elements=c * ho * wo)
        self.goto((c, ho, wo))

    # -- dense -----------------------------------------------------------------------
    def linear(self, name: str, cout: int, tokens: int = 1, bias: bool = True,
               act: str | None = None) -> None:
        """A linear layer over the flattened activation (tokens=1) or per token."""
        cin = self.c * self.h * self.w if tokens == 1 else self.c
        self._emit(kind="linear", name=name, cin=cin, cout=cout, tokens=tokens,
                   params=cin * cout + (cout if bias else 0), macs=tokens * cin * cout)
        self.goto((cout, tokens, 1) if tokens > 1 else (cout, 1, 1))
        if act:
            self.act(f"{name}.{act}")


# =====================================================================================
# Building blocks
# =====================================================================================

def _squeeze_excite(n: _Net, name: str, squeeze: int, gate: str, inner: str = "relu") -> None:
    """Global pool -> FC(c->squeeze) -> act -> FC(squeeze->c) -> gate -> channel scale."""
    shape = n.shape
    c = shape[0]
    n.resize(name + ".pool", 1, 1)
    n.linear(name + ".fc1", squeeze, act=inner)
    n.linear(name + ".fc2", c, act=gate)
    n.goto(shape)
    n.add(name + ".scale")


def _resnet_block(n: _Net, name: str, planes: int, stride: int, bottleneck: bool) -> None:
    """torchvision BasicBlock / Bottleneck (v1.5: stride on the 3x3 conv)."""
    x = n.shape
    out_c = planes * (4 if bottleneck else 1)
    if bottleneck:
        n.conv(name + ".conv1", planes, 1)
        n.conv(name + ".conv2", planes, 3, stride)
        n.conv(name + ".conv3", out_c, 1, act=None)
    else:
        n.conv(name + ".conv1", planes, 3, stride)
        n.conv(name + ".conv2", planes, 3, act=None)
    y = n.shape
    if stride != 1 or x[0] != out_c:
        n.goto(x)
        n.conv(name + ".downsample", out_c, 1, stride, act=None)
    n.goto(y)
    n.add(name + ".add")
    n.act(name + ".relu")


def _inverted_residual(n: _Net, name: str, cout: int, k: int, stride: int, expanded: int,
                       act: str, se: int = 0, se_gate: str = "hardsigmoid",
                       se_inner: str = "relu") -> None:
    """MobileNetV2/V3 and EfficientNet MBConv: [expand 1x1] -> depthwise kxk -> [SE] ->
    project 1x1 (linear bottleneck), residual when shapes allow."""
    x = n.shape
    if expanded != x[0]:
        n.conv(name + ".expand", expanded, 1, act=act)
    n.conv(name + ".dw", expanded, k, stride, groups=expanded, act=act)
    if se:
        _squeeze_excite(n, name + ".se", se, se_gate, se_inner)
    n.conv(name + ".project", cout, 1, act=None)
    if stride == 1 and x[0] == cout:
        n.add(name + ".add")


def _classifier(n: _Net, hidden: tuple[int, ...], classes: int, act: str = "relu") -> None:
    for i, hdim in enumerate(hidden):
        n.linear(f"fc{i + 1}", hdim, act=act)
    n.linear(f"fc{len(hidden) + 1}" if hidden else "fc", classes)


# =====================================================================================
# Families
# =====================================================================================

def _resnet(res: int, depth: int, classes: int) -> _Net:
    blocks, bottleneck = {18: ((2, 2, 2, 2), False), 34: ((3, 4, 6, 3), False),
                          50: ((3, 4, 6, 3), True), 101: ((3, 4, 23, 3), True)}[depth]
    n = _Net(3, res, res)
    n.conv("conv1", 64, 7, 2)
    n.pool("maxpool", 3, 2, pad=1)
    for stage, (count, planes) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for b in range(count):
            _resnet_block(n, f"layer{stage}.{b}", planes, 2 if (b == 0 and stage > 1) else 1, bottleneck)
    n.resize("avgpool", 1, 1)
    n.linear("fc", classes)
    return n


def _resnet8(res: int, classes: int) -> _Net:
    """MLPerf Tiny image-classification ResNet-8 (CIFAR-10, Keras, convs with bias)."""
    n = _Net(3, res, res)
    n.conv("conv1", 16, 3, bias=True)
    for stage, (c, s) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
        x = n.shape
        n.conv(f"stack{stage}.conv1", c, 3, s, pad="same", bias=True)
        n.conv(f"stack{stage}.conv2", c, 3, pad="same", bias=True, act=None)
        y = n.shape
        if s != 1:
            n.goto(x)
            n.conv(f"stack{stage}.shortcut", c, 1, s, pad="same", bias=True, bn=False, act=None)
        n.goto(y)
        n.add(f"stack{stage}.add")
        n.act(f"stack{stage}.relu")
    n.resize("avgpool", 1, 1)
    n.linear("fc", classes)
    return n


def _mobilenet_v1(res: int, width: float, classes: int) -> _Net:
    """Howard et al. 2017 (Keras applications layout: conv/BN/ReLU6, 1x1-conv classifier)."""
    n = _Net(3, res, res)
    n.conv("conv1", int(32 * width), 3, 2, act="relu6")
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (c, s) in enumerate(plan, start=1):
        n.conv(f"block{i}.dw", n.c, 3, s, groups=n.c, act="relu6")
        n.conv(f"block{i}.pw", int(c * width), 1, act="relu6")
    n.resize("avgpool", 1, 1)
    n.linear("fc", classes)
    return n


def _mobilenet_v2(res: int, width: float, classes: int) -> _Net:
    """torchvision mobilenet_v2 (Sandler et al. 2018)."""
    n = _Net(3, res, res)
    n.conv("features.0", _make_divisible(32 * width), 3, 2, act="relu6")
    i = 1
    for t, c, reps, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for r in range(reps):
            _inverted_residual(n, f"features.{i}", _make_divisible(c * width), 3,
                               s if r == 0 else 1, n.c * t, "relu6")
            i += 1
    n.conv(f"features.{i}", _make_divisible(1280 * max(1.0, width)), 1, act="relu6")
    n.resize("avgpool", 1, 1)
    n.linear("classifier", classes)
    return n


# (kernel, expanded, out, use_se, activation, stride) -- Howard et al. 2019, Tables 1-2
_MBV3 = {
    "large": ([(3, 16, 16, 0, "relu", 1), (3, 64, 24, 0, "relu", 2), (3, 72, 24, 0, "relu", 1),
               (5, 72, 40, 1, "relu", 2), (5, 120, 40, 1, "relu", 1), (5, 120, 40, 1, "relu", 1),
               (3, 240, 80, 0, "hardswish", 2), (3, 200, 80, 0, "hardswish", 1),
               (3, 184, 80, 0, "hardswish", 1), (3, 184, 80, 0, "hardswish", 1),
               (3, 480, 112, 1, "hardswish", 1), (3, 672, 112, 1, "hardswish", 1),
               (5, 672, 160, 1, "hardswish", 2), (5, 960, 160, 1, "hardswish", 1),
               (5, 960, 160, 1, "hardswish", 1)], 1280),
    "small": ([(3, 16, 16, 1, "relu", 2), (3, 72, 24, 0, "relu", 2), (3, 88, 24, 0, "relu", 1),
               (5, 96, 40, 1, "hardswish", 2), (5, 240, 40, 1, "hardswish", 1),
               (5, 240, 40, 1, "hardswish", 1), (5, 120, 48, 1, "hardswish", 1),
               (5, 144, 48, 1, "hardswish", 1), (5, 288, 96, 1, "hardswish", 2),
               (5, 576, 96, 1, "hardswish", 1), (5, 576, 96, 1, "hardswish", 1)], 1024),
}


def _mobilenet_v3(res: int, width: float, classes: int, size: str) -> _Net:
    """torchvision mobilenet_v3_large / _small."""
    plan, last = _MBV3[size]
    n = _Net(3, res, res)
    n.conv("features.0", _make_divisible(16 * width), 3, 2, act="hardswish")
    for i, (k, exp, out, se, act, s) in enumerate(plan, start=1):
        expanded = _make_divisible(exp * width)
        _inverted_residual(n, f"features.{i}", _make_divisible(out * width), k, s, expanded, act,
                           se=_make_divisible(expanded // 4) if se else 0)
    n.conv(f"features.{len(plan) + 1}", 6 * n.c, 1, act="hardswish")
    n.resize("avgpool", 1, 1)
    n.linear("classifier.0", _make_divisible(last * width), act="hardswish")
    n.linear("classifier.3", classes)
    return n


def _efficientnet(res: int, width: float, depth: float, classes: int) -> _Net:
    """torchvision efficientnet_b* (Tan & Le 2019): MBConv with SE (squeeze = in/4, SiLU)."""
    n = _Net(3, res, res)
    n.conv("features.0", _make_divisible(32 * width), 3, 2, act="silu")
    stages = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
              (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
    for si, (e, k, s, c, reps) in enumerate(stages, start=1):
        for r in range(ceil(reps * depth)):
            cin = n.c
            _inverted_residual(n, f"features.{si}.{r}", _make_divisible(c * width), k,
                               s if r == 0 else 1, cin * e, "silu",
                               se=max(1, cin // 4), se_gate="sigmoid", se_inner="silu")
    n.conv(f"features.{len(stages) + 1}", 4 * _make_divisible(320 * width), 1, act="silu")
    n.resize("avgpool", 1, 1)
    n.linear("classifier", classes)
    return n


def _vgg16(res: int, classes: int) -> _Net:
    n = _Net(3, res, res)
    i = 0
    for item in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if item == "M":
            n.pool(f"features.{i}", 2)
        else:
            n.conv(f"features.{i}", item, 3, bias=True, bn=False)
            i += 1
        i += 1
    n.resize("avgpool", 7, 7)
    _classifier(n, (4096, 4096), classes)
    return n


def _alexnet(res: int, classes: int) -> _Net:
    """torchvision alexnet (the one-GPU variant of Krizhevsky et al. 2012)."""
    n = _Net(3, res, res)
    n.conv("features.0", 64, 11, 4, pad=2, bias=True, bn=False)
    n.pool("features.2", 3, 2)
    n.conv("features.3", 192, 5, pad=2, bias=True, bn=False)
    n.pool("features.5", 3, 2)
    n.conv("features.6", 384, 3, bias=True, bn=False)
    n.conv("features.8", 256, 3, bias=True, bn=False)
    n.conv("features.10", 256, 3, bias=True, bn=False)
    n.pool("features.12", 3, 2)
    n.resize("avgpool", 6, 6)
    _classifier(n, (4096, 4096), classes)
    return n


def _lenet5(res: int, classes: int) -> _Net:
    """LeCun et al. 1998, common modern form: full C3 connectivity, linear output layer."""
    n = _Net(1, res, res)
    n.conv("c1", 6, 5, pad="valid", bias=True, bn=False, act="tanh")
    n.pool("s2", 2)
    n.conv("c3", 16, 5, pad="valid", bias=True, bn=False, act="tanh")
    n.pool("s4", 2)
    n.conv("c5", 120, 5, pad="valid", bias=True, bn=False, act="tanh")
    n.linear("f6", 84, act="tanh")
    n.linear("output", classes)
    return n


def _lenet1(res: int, classes: int) -> _Net:
    """LeCun et al. 1989 zip-code network ("LeNet-1"): 16x16 input, H1 12@8x8 and H2
    12@4x4 of 5x5 stride-2 convs with per-unit biases, H2 maps each see 8 of the 12 H1
    maps, then 30 hidden units and 10 outputs: 9,760 parameters, 64,660 connections."""
    n = _Net(1, res, res)
    n.conv("h1", 12, 5, 2, pad=2, bn=False, act="tanh", params=12 * 25 + 12 * (res // 2) ** 2)
    h2 = (res // 4) ** 2
    n.conv("h2", 12, 5, 2, pad=2, bn=False, act="tanh",
           params=12 * 8 * 25 + 12 * h2, macs=h2 * 12 * 8 * 25)
    n.linear("h3", 30, act="tanh")
    n.linear("output", classes, act="tanh")
    return n


# Hello Edge (Zhang et al. 2017) DS-CNN sizes: (channels, first-conv stride (h, w),
# stride of the first depthwise layer, number of depthwise-separable layers)
_DSCNN = {"s": (64, (2, 2), 1, 4), "m": (172, (2, 1), 2, 4), "l": (276, (2, 1), 2, 5)}


def _ds_cnn(size: str, classes: int) -> _Net:
    """Keyword spotting on 49x10 MFCC frames (1 s audio, 40 ms window, 20 ms stride)."""
    c, (sh, sw), s1, reps = _DSCNN[size]
    n = _Net(1, 49, 10)
    n.conv("conv1", c, 10, sh, pad="same", bias=True, kw=4, sw=sw)
    for i in range(1, reps + 1):
        n.conv(f"ds{i}.dw", c, 3, s1 if i == 1 else 1, groups=c, pad="same", bias=True)
        n.conv(f"ds{i}.pw", c, 1, bias=True)
    n.resize("avgpool", 1, 1)
    n.linear("fc", classes)
    return n


def _anomaly_ae() -> _Net:
    """MLPerf Tiny anomaly detection: dense autoencoder 640-128x4-8-128x4-640 on 5 frames
    x 128 log-mel bins (ToyADMOS), BatchNorm + ReLU after every hidden dense layer."""
    n = _Net(640, 1, 1)
    for i, units in enumerate((128, 128, 128, 128, 8, 128, 128, 128, 128), start=1):
        n.linear(f"dense{i}", units)
        n.norm(f"dense{i}.bn")
        n.act(f"dense{i}.relu")
    n.linear("output", 640)
    return n


def _vit(res: int, classes: int, layers: int, dim: int, heads: int, mlp: int, patch: int = 16) -> _Net:
    """torchvision vit_b_16 / vit_l_16 (Dosovitskiy et al. 2021): pre-norm encoder."""
    n = _Net(3, res, res)
    n.conv("conv_proj", dim, patch, patch, pad=0, bias=True, bn=False, act=None)
    tokens = n.h * n.w + 1
    n.goto((dim, tokens, 1))
    n._emit(kind="add", name="class_token+pos_embedding", cin=dim, cout=dim, tokens=tokens,
            elements=tokens * dim, params=dim + tokens * dim)
    hd = dim // heads
    for i in range(layers):
        p = f"encoder.layer{i}"
        n.norm(p + ".ln_1")
        n.linear(p + ".qkv", 3 * dim, tokens=tokens)
        n._emit(kind="attention", name=p + ".attention", tokens=tokens, heads=heads, head_dim=hd,
                elements=tokens * dim, macs=2 * tokens * tokens * dim)
        n.goto((dim, tokens, 1))
        n.linear(p + ".out_proj", dim, tokens=tokens)
        n.add(p + ".add1")
        n.norm(p + ".ln_2")
        n.linear(p + ".mlp.fc1", mlp, tokens=tokens, act="gelu")
        n.linear(p + ".mlp.fc2", dim, tokens=tokens)
        n.add(p + ".add2")
    n.norm("encoder.ln")
    n.goto((dim, 1, 1))  # classifier on the class token only
    n.linear("heads.head", classes)
    return n


def _yolov8(res: int, classes: int, depth: float = 0.33, width: float = 0.25, max_c: int = 1024) -> _Net:
    """Ultralytics yolov8.yaml at scale n: backbone (Conv, C2f, SPPF), PAN neck, decoupled
    anchor-free Detect head with DFL (reg_max 16) at strides 8/16/32."""
    ch = lambda c: _make_divisible(min(c, max_c) * width)  # noqa: E731
    reps = lambda r: max(round(r * depth), 1)  # noqa: E731
    n = _Net(3, res, res)

    def conv(name, c, k=1, s=1):
        n.conv(name, c, k, s, act="silu")

    def c2f(name, c_out, r, shortcut):
        c = c_out // 2
        conv(name + ".cv1", 2 * c)
        shapes = [(c, n.h, n.w), (c, n.h, n.w)]  # chunk(2) is a view
        n.goto((c, n.h, n.w))
        for j in range(r):
            conv(f"{name}.m{j}.cv1", c, 3)
            conv(f"{name}.m{j}.cv2", c, 3)
            if shortcut:
                n.add(f"{name}.m{j}.add")
            shapes.append(n.shape)
        n.concat(name + ".concat", *shapes)
        conv(name + ".cv2", c_out)

    def sppf(name, c_out):
        c = n.c // 2
        conv(name + ".cv1", c)
        shapes = [n.shape]
        for j in range(3):
            n.pool(f"{name}.maxpool{j}", 5, 1, pad=2)
            shapes.append(n.shape)
        n.concat(name + ".concat", *shapes)
        conv(name + ".cv2", c_out)

    conv("0", ch(64), 3, 2)
    conv("1", ch(128), 3, 2)
    c2f("2", ch(128), reps(3), True)
    conv("3", ch(256), 3, 2)
    c2f("4", ch(256), reps(6), True)
    p3 = n.shape
    conv("5", ch(512), 3, 2)
    c2f("6", ch(512), reps(6), True)
    p4 = n.shape
    conv("7", ch(1024), 3, 2)
    c2f("8", ch(1024), reps(3), True)
    sppf("9", ch(1024))
    p5 = n.shape
    n.resize("10.upsample", 2 * n.h, 2 * n.w)
    n.concat("11.concat", n.shape, p4)
    c2f("12", ch(512), reps(3), False)
    h4 = n.shape
    n.resize("13.upsample", 2 * n.h, 2 * n.w)
    n.concat("14.concat", n.shape, p3)
    c2f("15", ch(256), reps(3), False)
    out3 = n.shape
    conv("16", ch(256), 3, 2)
    n.concat("17.concat", n.shape, h4)
    c2f("18", ch(512), reps(3), False)
    out4 = n.shape
    conv("19", ch(512), 3, 2)
    n.concat("20.concat", n.shape, p5)
    c2f("21", ch(1024), reps(3), False)
    out5 = n.shape
    reg_max = 16
    c2 = max(16, out3[0] // 4, 4 * reg_max)
    c3 = max(out3[0], min(classes, 100))
    for i, x in enumerate((out3, out4, out5)):
        for branch, hidden, final in (("cv2", c2, 4 * reg_max), ("cv3", c3, classes)):
            n.goto(x)
            conv(f"22.{branch}.{i}.0", hidden, 3)
            conv(f"22.{branch}.{i}.1", hidden, 3)
            n.conv(f"22.{branch}.{i}.2", final, 1, bias=True, bn=False, act=None)
    # DFL: softmax over 16 bins and a fixed 1x1 conv (16 -> 1) per box side, all anchors
    anchors = sum(x[1] * x[2] for x in (out3, out4, out5))
    n.goto((4 * reg_max, anchors, 1))
    n.act("22.dfl.softmax")
    n._emit(kind="conv", name="22.dfl.conv", cin=reg_max, cout=1, h_in=4, w_in=anchors,
            h_out=4, w_out=anchors, params=reg_max, macs=4 * anchors * reg_max)
    return n


# =====================================================================================
# Registry
# =====================================================================================

# name: (builder(resolution, width, classes) -> _Net, default resolution or None when the
#        input size is fixed, supports width, default classes (0: headless feature extractor))
# mobilenet_v1_vww is the MLPerf Tiny visual-wake-words reference (MobileNetV1 x0.25 at
# 96x96, 2 classes; its width multiplies the 0.25); mobilenet_v2_features is MobileNetV2
# without global pool and classifier (Keras include_top=False).
_REGISTRY = {
    "resnet18": (lambda r, w, c: _resnet(r, 18, c), 224, False, 1000),
    "resnet34": (lambda r, w, c: _resnet(r, 34, c), 224, False, 1000),
    "resnet50": (lambda r, w, c: _resnet(r, 50, c), 224, False, 1000),
    "resnet101": (lambda r, w, c: _resnet(r, 101, c), 224, False, 1000),
    "resnet8": (lambda r, w, c: _resnet8(r, c), 32, False, 10),
    "mobilenet_v1": (lambda r, w, c: _mobilenet_v1(r, w, c), 224, True, 1000),
    "mobilenet_v1_vww": (lambda r, w, c: _mobilenet_v1(r, 0.25 * w, c), 96, True, 2),
    "mobilenet_v2": (lambda r, w, c: _mobilenet_v2(r, w, c), 224, True, 1000),
    "mobilenet_v2_features": (lambda r, w, c: _mobilenet_v2(r, w, c), 224, True, 0),
    "mobilenet_v3_large": (lambda r, w, c: _mobilenet_v3(r, w, c, "large"), 224, True, 1000),
    "mobilenet_v3_small": (lambda r, w, c: _mobilenet_v3(r, w, c, "small"), 224, True, 1000),
    "efficientnet_b0": (lambda r, w, c: _efficientnet(r, 1.0, 1.0, c), 224, False, 1000),
    "efficientnet_b4": (lambda r, w, c: _efficientnet(r, 1.4, 1.8, c), 380, False, 1000),
    "vgg16": (lambda r, w, c: _vgg16(r, c), 224, False, 1000),
    "alexnet": (lambda r, w, c: _alexnet(r, c), 224, False, 1000),
    "lenet1": (lambda r, w, c: _lenet1(r, c), None, False, 10),
    "lenet5": (lambda r, w, c: _lenet5(r, c), None, False, 10),
    "yolov8n": (lambda r, w, c: _yolov8(r, c), 640, False, 80),
    "vit_b16": (lambda r, w, c: _vit(r, c, 12, 768, 12, 3072), 224, False, 1000),
    "vit_l16": (lambda r, w, c: _vit(r, c, 24, 1024, 16, 4096), 224, False, 1000),
    "ds_cnn_s": (lambda r, w, c: _ds_cnn("s", c), None, False, 12),
    "ds_cnn_m": (lambda r, w, c: _ds_cnn("m", c), None, False, 12),
    "ds_cnn_l": (lambda r, w, c: _ds_cnn("l", c), None, False, 12),
    "anomaly_ae": (lambda r, w, c: _anomaly_ae(), None, False, 640),
}
_FIXED_INPUT = {"lenet1": 16, "lenet5": 32}
_ALIASES = {"ds_cnn": "ds_cnn_s", "mlperf_tiny_ad": "anomaly_ae", "anomaly_detector": "anomaly_ae",
            "vit_b_16": "vit_b16", "vit_l_16": "vit_l16", "yolov8_nano": "yolov8n"}

ARCHS: tuple[str, ...] = tuple(_REGISTRY)


def _canonical(arch: str) -> str:
    key = arch.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        import difflib
        close = difflib.get_close_matches(key, ARCHS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown vision architecture {arch!r}{hint} (known: {', '.join(ARCHS)})")
    return key


def default_resolution(arch: str) -> int | None:
    key = _canonical(arch)
    return _REGISTRY[key][1] or _FIXED_INPUT.get(key)


@lru_cache(maxsize=256)
def _layers(key: str, resolution: int | None, width: float, classes: int | None) -> tuple[Layer, ...]:
    build, default_res, has_width, default_classes = _REGISTRY[key]
    if width != 1.0 and not has_width:
        raise ValueError(f"{key} has no width multiplier (got width={width})")
    if width <= 0:
        raise ValueError(f"width multiplier must be positive (got {width})")
    if default_res is None:
        fixed = _FIXED_INPUT.get(key)
        if resolution not in (None, fixed):
            raise ValueError(f"{key} takes a fixed input size; resolution={resolution} is not supported")
        res = fixed or 0
    else:
        res = default_res if resolution is None else int(resolution)
        if res < 32 or (key.startswith(("vit",)) and res % 16) or (key == "yolov8n" and res % 32):
            raise ValueError(f"resolution {res} is not valid for {key}")
    if classes is not None and classes < 0:
        raise ValueError(f"classes must be a non-negative integer (got {classes})")
    classes = default_classes if classes is None else classes
    out = build(res, width, classes or 1000).out
    if classes == 0:  # feature extractor: everything before the global pool and classifier
        cut = next((i for i, x in enumerate(out) if x.name == "avgpool"), None)
        if cut is None:
            raise ValueError(f"{key} has no separable classifier head (classes=0 is not supported)")
        out = out[:cut]
    return tuple(out)


def layers(arch: str, resolution: int | None = None, width: float = 1.0,
           classes: int | None = None) -> tuple[Layer, ...]:
    """The operators of `arch` for one image at `resolution` (default: the arch's
    reference input), with channel `width` multiplier (MobileNets) and `classes` outputs
    (default: the reference head; 0: feature extractor without global pool and classifier)."""
    return _layers(_canonical(arch), resolution, float(width), classes)


def totals(arch: str, resolution: int | None = None, width: float = 1.0,
           classes: int | None = None) -> tuple[int, int]:
    """(parameters, MACs per image) summed over the generated layers."""
    ls = layers(arch, resolution, width, classes)
    return sum(x.params for x in ls), sum(x.macs for x in ls)
