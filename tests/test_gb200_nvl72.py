"""GB200 NVL72 is 72 GB200 GPUs in one NVLink domain, not one rack-sized device."""
import math

import pytest

import mlsysim
from mlsysim import Hardware, Systems
from mlsysim.errors import InputError, UnknownNameError
from mlsysim.systems.types import Fleet
from mlsysim.training.distributed import DistributedModel

#: NVIDIA's GB200 NVL72 rack figures: FP16/BF16 tensor 360 PFLOPS (printed with 2:4 sparsity), up to 13.4 TB
#: HBM3e at 576 TB/s, 130 TB/s of NVLink (send + receive)
RACK_BF16_SPARSE = 360e15
RACK_HBM = 13.4e12
RACK_HBM_BW = 576e12
RACK_NVLINK = 130e12


def test_the_gb200_gpu_is_one_seventy_second_of_the_rack():
    gpu = Hardware.GB200
    assert gpu is Hardware.Cloud.GB200 and gpu.metadata.source
    # dense: the rack's sparse figure halved, over 72 GPUs
    assert 72 * gpu.compute.rate("bf16") == pytest.approx(RACK_BF16_SPARSE / 2)
    assert 72 * gpu.compute.rate("fp16") == pytest.approx(RACK_BF16_SPARSE / 2)
    assert float(gpu.compute.peak_flops) == pytest.approx(2.5e15)
    assert gpu.compute.rate("fp8") == pytest.approx(2 * gpu.compute.rate("bf16"))
    assert gpu.compute.rate("fp4") == pytest.approx(4 * gpu.compute.rate("bf16"))
    assert 72 * float(gpu.memory.capacity) == pytest.approx(RACK_HBM, rel=0.01)
    assert 72 * float(gpu.memory.bandwidth) == pytest.approx(RACK_HBM_BW)
    assert float(gpu.nvlink.bandwidth) == pytest.approx(900e9)                  # per direction
    assert 72 * 2 * float(gpu.nvlink.bandwidth) == pytest.approx(RACK_NVLINK, rel=0.01)
    assert float(gpu.tdp) == 1200
    # a GB200 GPU is a little faster than an HGX B200 (1,200 W against 1,000 W)
    assert gpu.compute.rate("bf16") > Hardware.B200.compute.rate("bf16")


def test_the_rack_is_no_longer_a_hardware_device():
    assert "GB200_NVL72" not in Hardware and "NVL72" not in Hardware
    with pytest.raises(UnknownNameError, match="GB200"):
        Hardware.GB200_NVL72
    assert not [key for key, hw in Hardware.items() if hw.form_factor == "rack" or hw.accelerator_count]


def test_the_nvl72_node_is_72_gpus_on_one_scale_up_link():
    node = Systems.Nodes.GB200_NVL72
    assert node.accelerator is Hardware.GB200
    assert node.accelerators_per_node == 72
    assert float(node.intra_node_bw) == pytest.approx(900e9)                   # NVLink 5, per direction
    assert float(node.scale_up.bandwidth) == pytest.approx(900e9)
    su = Systems.Clusters.NVL72_SU_8Rack
    assert su.node is node and su.total_accelerators == 576
    rack = Systems.Racks.GB200_NVL72_Rack
    assert rack.node == "GB200_NVL72" and rack.nodes == 1 and rack.power_kw == pytest.approx(120)
    # a rack's capex is still the ~$3M it was as one device: 72 GPUs at their share of it
    assert 72 * float(Hardware.GB200.unit_cost) == pytest.approx(3e6, rel=0.01)


def test_tensor_parallelism_wider_than_eight_stays_inside_the_rack():
    # Llama 3 70B has 64 heads: tp=64 over 8 racks (576 GPUs) leaves dp=9
    su = Systems.Clusters.NVL72_SU_8Rack
    r = DistributedModel().solve("Llama3_70B", su, batch_size=576, tp=64)
    assert r.parallelism["tp"] == 64 and r.parallelism["dp"] == 9
    assert math.isfinite(float(r.step_time_s)) and r.step_time_s > 0 and r.feasible
    assert "inside a node of 72" in r.assumptions[0]
    # the same tp on 8-GPU nodes leaves the scale-up link, which the model refuses
    dgx = Fleet(name="72x DGX B200", node=Systems.Nodes.DGX_B200, count=72,
                fabric=Systems.Fabrics.get("InfiniBand_NDR"))
    with pytest.raises(InputError, match="tp=64 exceeds the 8 accelerators"):
        DistributedModel().solve("Llama3_70B", dgx, batch_size=576, tp=64)


def test_tensor_parallel_traffic_runs_at_nvlink_speed():
    su = Systems.Clusters.NVL72_SU_8Rack
    node = su.node
    nic = float(Systems.Fabrics.InfiniBand_NDR.bandwidth)
    slow = Fleet(name="NVL72 on NIC speed", node=node.model_copy(update={"intra_node_bw": nic, "scale_up": None}),
                 count=su.count, fabric=su.fabric)
    fast = DistributedModel().solve("Llama3_70B", su, batch_size=576, tp=64)
    crawl = DistributedModel().solve("Llama3_70B", slow, batch_size=576, tp=64)
    assert float(fast.tp_comm_s) < float(crawl.tp_comm_s) / 5


def test_one_gb200_serves_llama3_8b():
    profile = mlsysim.Engine.solve("Llama3_8B", "GB200", batch_size=1)
    assert math.isfinite(profile.latency_s) and profile.latency_s > 0 and profile.feasible
    b200 = mlsysim.Engine.solve("Llama3_8B", "B200", batch_size=1)
    assert profile.latency_s <= b200.latency_s
