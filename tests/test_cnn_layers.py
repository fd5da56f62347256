"""A CNN given as a list of layers (``mlsysim.models.layers``, ``Models.from_layers``): known networks written
layer by layer reproduce their published counts and the zoo's generated entries (parameters, FLOPs, latency),
a YAML layer file loads wherever a model name is accepted, and every bad layer is one sentence naming it.

Known answers: VGG-16 138,357,544 parameters and 15.47 GMACs (torchvision vgg16; Simonyan & Zisserman 2015);
ResNet-18 11,689,512 parameters (torchvision resnet18), its first BasicBlock 73,984 and first downsampling
block 230,144 (torchvision resnet18 layer1[0] / layer2[0]); LeNet-5 61,706 parameters, "about 60,000" in LeCun
et al. 1998. The zoo counts FLOPs as 2 x MACs, so VGG-16's "15.5 GFLOPs" are 30.9e9 FLOPs here.
"""
import json
import math

import pytest
import yaml
from conftest import cli

import mlsysim
from mlsysim.errors import InputError
from mlsysim.models.layers import cnn_from_layers, is_layer_file
from mlsysim.run import resolve_model


def conv(c, k=3, **kw):
    return {"type": "conv", "out_channels": c, "kernel": k, **kw}


VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16_layers(adaptive: bool = True) -> list[dict]:
    """torchvision vgg16: 13 3x3 'same' convs with bias and ReLU, 5 max-pools, 3 FC layers."""
    out = [{"type": "pool", "kind": "max", "kernel": 2, "stride": 2} if c == "M" else conv(c, activation="relu")
           for c in VGG16_CFG]
    if adaptive:
        out.append({"type": "adaptive_pool", "output": 7})        # torchvision's AdaptiveAvgPool2d((7, 7))
    return out + [{"type": "flatten"},
                  {"type": "fc", "out_features": 4096, "activation": "relu"}, {"type": "dropout"},
                  {"type": "fc", "out_features": 4096, "activation": "relu"}, {"type": "dropout"},
                  {"type": "fc", "out_features": 1000}]


def basic_block(name: str, planes: int, stride: int, project: bool, source: str = "input") -> list[dict]:
    """torchvision BasicBlock reading the layer named ``source``: conv-bn-relu-conv-bn, a 1x1 conv-bn shortcut
    when the shape changes, the residual add and a ReLU (named ``name``)."""
    out = [conv(planes, stride=stride, bias=False), {"type": "batchnorm"}, {"type": "relu"},
           conv(planes, bias=False), {"type": "batchnorm", "name": name + ".main"}]
    if project:
        out += [conv(planes, 1, stride=stride, bias=False, input=source), {"type": "batchnorm"},
                {"type": "add", "from": name + ".main"}]
    else:
        out += [{"type": "add", "from": source}]
    return out + [{"type": "relu", "name": name}]


def resnet18_layers() -> list[dict]:
    out = [conv(64, 7, stride=2, padding=3, bias=False), {"type": "batchnorm"}, {"type": "relu"},
           {"type": "pool", "kernel": 3, "stride": 2, "padding": 1, "name": "stem"}]
    source = "stem"
    for stage, planes in enumerate((64, 128, 256, 512), start=1):
        for b in range(2):
            stride = 2 if (b == 0 and stage > 1) else 1
            out += basic_block(f"layer{stage}.{b}", planes, stride, stride != 1, source)
            source = f"layer{stage}.{b}"
    return out + [{"type": "global_pool"}, {"type": "fc", "out_features": 1000}]


LENET5 = [conv(6, 5, padding="valid", activation="tanh"), {"type": "pool", "kind": "avg", "kernel": 2},
          conv(16, 5, padding="valid", activation="tanh"), {"type": "pool", "kind": "avg", "kernel": 2},
          conv(120, 5, padding="valid", activation="tanh"),
          {"type": "linear", "out_features": 84, "activation": "tanh"}, {"type": "linear", "out_features": 10}]


def _strip(layers):
    return [x._replace(name="") for x in layers]


def _latency(model) -> float:
    return mlsysim.Engine.solve(model, "A100", batch_size=8).latency_s


# --- (a) VGG-16 -----------------------------------------------------------------------------------------------
def test_vgg16_reproduces_the_published_counts_and_the_zoo_entry():
    vgg = mlsysim.Models.from_layers(vgg16_layers(), "VGG-16 (layers)", input_shape=(3, 224, 224))
    assert vgg.parameter_count() == 138_357_544                      # torchvision vgg16
    macs = vgg.forward_flops() / 2
    assert macs == pytest.approx(15.47e9, rel=0.002)                # torchvision: 15.47 GMACs ("15.5 GFLOPs")
    assert vgg.forward_flops() == pytest.approx(30.9e9, rel=0.002)   # the zoo's unit: FLOPs = 2 x MACs
    assert vgg.layers == 16 and vgg.resolution == 224 and vgg.family.name == "cnn"
    zoo = mlsysim.Models.get("VGG16")
    assert vgg.parameter_count() == pytest.approx(zoo.parameter_count(), rel=1e-3)
    assert vgg.forward_flops() == pytest.approx(zoo.forward_flops(), rel=1e-3)
    assert _strip(vgg.layer_list()) == _strip(zoo.layer_list())     # the same operators, shape for shape
    # the plain list (no adaptive pool, a no-op at 224) holds the same weights and work
    plain = cnn_from_layers(vgg16_layers(adaptive=False), "VGG-16 plain", parameters=138_357_544)
    assert (plain.parameter_count(), plain.forward_flops()) == (vgg.parameter_count(), vgg.forward_flops())


# --- (b) ResNet basic blocks ----------------------------------------------------------------------------------
def test_resnet_basic_block_with_a_residual_add():
    block = cnn_from_layers(basic_block("b", 64, 1, project=False), "BasicBlock", input_shape=(64, 56, 56))
    assert block.parameter_count() == 2 * 64 * 64 * 9 + 2 * 2 * 64 == 73_984     # torchvision layer1[0]
    assert block.forward_flops() == 2 * (2 * 56 * 56 * 64 * 64 * 9)
    kinds = [x.kind for x in block.layer_list()]
    assert kinds == ["conv", "norm", "act", "conv", "norm", "add", "act"]
    add = block.layer_list()[5]
    assert (add.cout, add.h_out, add.w_out, add.elements) == (64, 56, 56, 64 * 56 * 56)
    down = cnn_from_layers(basic_block("d", 128, 2, project=True), "DownBlock", input_shape=(64, 56, 56))
    assert down.parameter_count() == 230_144                                        # torchvision layer2[0]
    assert down.layer_list()[-1].h_out == 28


def test_resnet18_as_a_layer_list_matches_the_zoo():
    net = cnn_from_layers(resnet18_layers(), "ResNet-18 (layers)")
    zoo = mlsysim.Models.get("ResNet18")
    assert net.parameter_count() == zoo.parameter_count() == 11_689_512
    assert net.layers == zoo.layers == 18               # the shortcut convs are side paths, not depth
    assert net.forward_flops() == pytest.approx(zoo.forward_flops(), rel=1e-3)
    assert _strip(net.layer_list()) == _strip(zoo.layer_list())
    assert _latency(net) == pytest.approx(_latency(zoo), rel=0.01)


# --- (c) LeNet-5 ----------------------------------------------------------------------------------------------
def test_lenet5():
    lenet = cnn_from_layers(LENET5, "LeNet-5 (layers)", input_shape=[1, 32, 32], parameters=61_706)
    assert lenet.parameter_count() == 61_706 == pytest.approx(60_000, rel=0.03)   # LeCun et al.: "about 60,000"
    zoo = mlsysim.Models.get("LeNet5")
    assert lenet.parameter_count() == zoo.parameter_count()
    assert lenet.layers == 5
    assert lenet.forward_flops() == zoo.forward_flops() == 2 * 416_520
    assert _strip(lenet.layer_list()) == _strip(zoo.layer_list())


# --- (d) through the engine -----------------------------------------------------------------------------------
@pytest.mark.parametrize("layers, shape, zoo_name", [(vgg16_layers(), (3, 224, 224), "VGG16"),
                                                     (LENET5, (1, 32, 32), "LeNet5")])
def test_the_engine_times_a_layer_list_as_the_zoo_entry(layers, shape, zoo_name):
    model = cnn_from_layers(layers, zoo_name + " (layers)", input_shape=shape)
    latency = _latency(model)
    assert math.isfinite(latency) and latency > 0
    assert latency == pytest.approx(_latency(mlsysim.Models.get(zoo_name)), rel=0.01)


# --- (e) a YAML file wherever a model name goes ---------------------------------------------------------------
@pytest.fixture
def lenet_file(tmp_path):
    path = tmp_path / "lenet5.yaml"
    path.write_text(yaml.safe_dump({"name": "LeNet-5 (file)", "input": [1, 32, 32], "parameters": 61706,
                                    "source": "LeCun et al. 1998", "layers": LENET5}), encoding="utf-8")
    return str(path)


def test_a_layer_file_resolves_as_a_model(lenet_file):
    model = resolve_model(lenet_file)
    assert model is resolve_model(lenet_file)                   # read once per process
    assert model.name == "LeNet-5 (file)" and model.parameter_count() == 61_706
    assert model.input_shape == (1, 32, 32) and model.metadata.source == "LeCun et al. 1998"
    assert is_layer_file(lenet_file)
    assert math.isfinite(mlsysim.Engine.solve(lenet_file, "A100", batch_size=8).latency_s)


def test_a_layer_file_through_the_cli(lenet_file, tmp_path):
    out = cli("eval", lenet_file, "A100", "-o", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["status"] == "ok"
    alone = cli("eval", lenet_file)                              # a model file, not a plan: it needs hardware
    assert alone.returncode != 0 and "HARDWARE" in alone.stdout + alone.stderr
    plan = tmp_path / "plan.yaml"                               # a plan file is still a plan
    plan.write_text(yaml.safe_dump({"version": "1.0", "name": "p", "workload": {"name": lenet_file},
                                    "hardware": {"name": "A100"}}), encoding="utf-8")
    assert not is_layer_file(str(plan))
    ran = cli("eval", str(plan), "-o", "json")
    assert ran.returncode == 0 and json.loads(ran.stdout)["status"] == "ok", ran.stdout + ran.stderr


# --- (f) bad inputs: one InputError sentence naming the layer and the field -----------------------------------
BAD = [
    ([{"type": "convolution", "out_channels": 8, "kernel": 3}], "layer 0", "unknown layer type 'convolution'"),
    ([conv(8), {"type": "conv", "kernel": 3}], "layer 1 (conv)", "missing 'out_channels'"),
    ([conv(8, padding="valid"), conv(8, 5, padding=0)], "layer 1", "'kernel' 5x5 is larger than its 2x2 input"),
    ([{"type": "pool", "kernel": 8}], "layer 0 (pool)", "'kernel' 8"),
    ([conv(8, name="a"), conv(16), {"type": "add", "from": "a"}], "layer 2 (add)", "shapes differ"),
    ([conv(8, stride=0)], "layer 0 (conv)", "'stride' must be a whole number >= 1"),
    ([conv(8, kernal=3)], "layer 0 (conv)", "unknown field 'kernal'"),
    ([conv(6, groups=4)], "layer 0 (conv)", "'groups'"),
    ([conv(8), {"type": "add", "from": 5}], "layer 1 (add)", "'from' refers to layer 5"),
    ([conv(8), {"type": "add", "from": "nowhere"}], "layer 1 (add)", "'from' names 'nowhere'"),
    ([conv(8, activation="rleu")], "layer 0 (conv)", "'activation' must be one of"),
    ([conv(8, name="x"), conv(8, name="x")], "layer 1 (conv 'x')", "already layer 0's"),
    ([conv(8), "conv"], "layer 1", "must be a mapping"),
    ([conv(8, bias="yes")], "layer 0 (conv)", "'bias' must be true or false"),
    ([{"type": "fc", "out_features": 0}], "layer 0 (fc)", "'out_features' must be a whole number >= 1"),
    ([conv(8, name="a"), {"type": "pool", "kernel": 2}, {"type": "concat", "from": "a"}], "layer 2 (concat)",
     "heights and widths differ"),
]


@pytest.mark.parametrize("layers, where, words", BAD, ids=[b[2][:30] for b in BAD])
def test_bad_layers_are_one_sentence_naming_the_layer(layers, where, words):
    with pytest.raises(InputError) as err:
        cnn_from_layers(layers, "net", input_shape=(3, 4, 4))
    text = str(err.value)
    assert text.startswith(f"net: {where}") and words in text and "\n" not in text, text


def test_bad_networks_are_one_sentence():
    with pytest.raises(InputError, match=r"stated 145,000,000 parameters differ from the 138,357,544"):
        cnn_from_layers(vgg16_layers(), "VGG", parameters=145e6)
    with pytest.raises(InputError, match="non-empty list"):
        cnn_from_layers([], "net")
    with pytest.raises(InputError, match="input must be"):
        cnn_from_layers(LENET5, "net", input_shape=(1, 0, 32))
    with pytest.raises(InputError, match="not found"):
        cnn_from_layers("/nonexistent/net.yaml")


def test_bad_layer_files(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: n\nlayers:\n  - {type: conv, out_channels: 8}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"n: layer 0 \(conv\): missing 'kernel'"):
        resolve_model(str(path))
    path.write_text("name: n\nlayer: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown key 'layer'"):
        cnn_from_layers(str(path))
    path.write_text("name: n\nlayers: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="malformed YAML"):
        cnn_from_layers(str(path))
