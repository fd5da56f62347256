"""Every facts file matches its schema, and a broken copy is refused with one sentence naming file, entry and key."""
import copy

import pytest

from mlsysim.errors import InputError
from mlsysim.hardware.registry import hardware_from_fact
from mlsysim.models.registry import workload_from_fact
from mlsysim.zoo.facts import check_file, has_schema
from mlsysim.zoo.registry import DATA, load_data

SHIPPED = ("hardware", "models", "systems", "infra", "compression", "reliability", "scenarios")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_facts_file_matches_its_schema(name):
    assert has_schema(name)
    check_file(name, load_data(name))


@pytest.mark.parametrize("path", sorted(DATA.glob("*.yaml")), ids=lambda p: p.name)
def test_every_facts_file_has_a_schema(path):
    assert has_schema(path.stem), f"{path.name} has no schema: add mlsysim/zoo/schemas/{path.stem}.py"


def refused(name: str, change) -> str:
    """The sentence that refuses a copy of ``name``.yaml changed by ``change``."""
    data = copy.deepcopy(load_data(name))
    change(data)
    with pytest.raises(InputError) as caught:
        check_file(name, data)
    return str(caught.value)


def rename(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


# (file, change, sentence): per file an unknown key, a missing required key and a figure of the wrong unit
BROKEN = [
    ("hardware", lambda d: rename(d["cloud"]["H100"]["memory"], "bandwidth", "bandwith"),
     "hardware.yaml: cloud.H100: unknown key 'memory.bandwith'; did you mean 'memory.bandwidth'?"),
    ("hardware", lambda d: d["cloud"]["H100"].pop("release_year"),
     "hardware.yaml: cloud.H100: missing required key 'release_year'"),
    ("hardware", lambda d: d["cloud"]["H100"]["memory"].update(capacity="80 GB/s"),
     "hardware.yaml: cloud.H100: 'memory.capacity' must be a data size (e.g. '80 GiB'), got '80 GB/s'"),
    ("hardware", lambda d: d["cloud"]["H100"]["memory"].update(capacity=80),
     "hardware.yaml: cloud.H100: 'memory.capacity' must be a data size (e.g. '80 GiB'), got 80"),
    ("hardware", lambda d: d["cloud"]["H100"]["sources"].update({"power.tpd": "a typo"}),
     "hardware.yaml: cloud.H100: 'sources' names 'power.tpd', which this entry does not give"),
    ("models", lambda d: d["language"]["Llama3_8B"].update(hiden=4096),
     "models.yaml: language.Llama3_8B: unknown key 'hiden'; did you mean 'hidden'?"),
    ("models", lambda d: d["language"]["Llama3_8B"].pop("layers"),
     "models.yaml: language.Llama3_8B: missing required key 'layers'"),
    ("models", lambda d: d["recommendation"]["DLRM"].update(model_size="100 GB/s"),
     "models.yaml: recommendation.DLRM: 'model_size' must be a data size (e.g. '80 GiB'), got '100 GB/s'"),
    ("models", lambda d: d["language"]["Llama3_8B"].update(parameters="8.03e9"),
     "models.yaml: language.Llama3_8B: 'parameters' must be a valid number, got '8.03e9'"),
    ("systems", lambda d: d["nodes"]["DGX_H100"]["nic"].update(bandwidht="400 Gbps"),
     "systems.yaml: nodes.DGX_H100: unknown key 'nic.bandwidht'; did you mean 'nic.bandwidth'?"),
    ("systems", lambda d: d["clusters"]["Frontier_8K"].pop("fabric"),
     "systems.yaml: clusters.Frontier_8K: missing required key 'fabric'"),
    ("systems", lambda d: d["fabrics"]["InfiniBand_NDR"].update(latency="5 GB"),
     "systems.yaml: fabrics.InfiniBand_NDR: 'latency' must be a time (e.g. '5 us'), got '5 GB'"),
    ("systems", lambda d: d["clusters"]["Frontier_8K"].update(fabric="InfiniBand_NRD"),
     "systems.yaml: clusters.Frontier_8K: 'fabric' names no entry of fabrics, got 'InfiniBand_NRD'; "
     "did you mean InfiniBand_NDR, InfiniBand_XDR, InfiniBand_HDR?"),
    ("infra", lambda d: rename(d["grids"]["Quebec"], "pue", "pua"),
     "infra.yaml: grids.Quebec: unknown key 'pua'; did you mean 'pue'?"),
    ("infra", lambda d: d["datacenters"]["Quebec_Hydro"].pop("grid"),
     "infra.yaml: datacenters.Quebec_Hydro: missing required key 'grid'"),
    ("infra", lambda d: d["grids"]["Quebec"].update(pue=0.9),
     "infra.yaml: grids.Quebec: 'pue' must be greater than or equal to 1, got 0.9"),
    ("compression", lambda d: d["results"][2].update(bitz=4),
     "compression.yaml: results[gptq_opt175b_w4]: unknown key 'bitz'; did you mean 'bits'?"),
    ("compression", lambda d: d["results"][2].pop("bits"),
     "compression.yaml: results[gptq_opt175b_w4]: missing required key 'bits' (method quantization)"),
    ("compression", lambda d: d["results"][8].update(sparsity=50),
     "compression.yaml: results[sparsegpt_opt175b_50]: 'sparsity' must be less than or equal to 1, got 50"),
    ("reliability", lambda d: rename(d["profiles"]["measured"]["exposure"], "gpu", "gpus"),
     "reliability.yaml: profiles.measured: unknown key 'exposure.gpus'; did you mean 'exposure.gpu', 'exposure.psu'?"),
    ("reliability", lambda d: d["profiles"]["measured"]["components"]["gpu"].pop("count"),
     "reliability.yaml: profiles.measured: missing required key 'components.gpu.count'"),
    ("reliability", lambda d: d["profiles"]["datasheet"]["components"]["psu"].update(per="node"),
     "reliability.yaml: profiles.datasheet: 'components.psu.per' is 'node', which 'exposure' does not give"),
    ("scenarios", lambda d: d["ChatbotServing"].update(sla_latncy="500 ms"),
     "scenarios.yaml: ChatbotServing: unknown key 'sla_latncy'; did you mean 'sla_latency'?"),
    ("scenarios", lambda d: d["ChatbotServing"].pop("workload"),
     "scenarios.yaml: ChatbotServing: missing required key 'workload'"),
    ("scenarios", lambda d: d["SmartDoorbell"].update(power_budget="100 mWh"),
     "scenarios.yaml: SmartDoorbell: 'power_budget' must be a power (e.g. '700 W'), got '100 mWh'"),
]


@pytest.mark.parametrize("name, change, sentence", BROKEN, ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(BROKEN)])
def test_a_broken_copy_is_refused_in_one_sentence(name, change, sentence):
    assert refused(name, change) == sentence


def test_a_user_built_device_is_checked_like_the_file():
    fact = copy.deepcopy(load_data("hardware")["cloud"]["H100"])
    fact["name"] = "My H100"
    assert hardware_from_fact(fact).memory.capacity == 80 * 2**30
    rename(fact["memory"], "bandwidth", "bandwith")
    with pytest.raises(InputError, match=r"^hardware entry 'My H100': unknown key 'memory.bandwith'; "
                                         r"did you mean 'memory.bandwidth'\?$"):
        hardware_from_fact(fact)
    fact["memory"].pop("bandwith")
    with pytest.raises(InputError, match=r"^hardware entry 'My H100': missing required key 'memory.bandwidth'$"):
        hardware_from_fact(fact)


def test_a_user_built_model_is_checked_like_the_file():
    fact = dict(load_data("models")["language"]["Llama3_8B"], name="My 8B", vocab_size=128256)
    with pytest.raises(InputError, match=r"^model entry 'My 8B': unknown key 'vocab_size'"):
        workload_from_fact(fact)
    fact = dict(load_data("models")["language"]["Llama3_8B"], type="transfomer")
    with pytest.raises(InputError, match=r"'type' must be one of transformer, moe, .*, got 'transfomer'$"):
        workload_from_fact(fact)
