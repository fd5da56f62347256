"""Nodes, fabrics, clusters, racks and deployment tiers, built from ``zoo/data/systems.yaml``."""
from __future__ import annotations

from ..core.types import Metadata
from ..hardware.registry import Hardware
from ..hardware.types import IOInterconnect
from ..units import from_si, parse
from ..zoo.registry import Registry, load_data
from .types import DeploymentTier, Fleet, NetworkFabric, Node, PodEnvelope, PowerLimit, RackProfile


def _meta(fact: dict) -> Metadata:
    return Metadata(source=fact["source"])


def _node(fact: dict) -> Node:
    scale_up = fact.get("scale_up") or {}
    nic = fact.get("nic") or {}
    link = IOInterconnect(name=scale_up.get("name", "scale-up"), bandwidth=scale_up["per_direction"]) \
        if scale_up else None
    return Node(name=fact["name"], accelerator=Hardware.get(fact["accelerator"]),
                accelerators_per_node=fact["accelerators_per_node"],
                intra_node_bw=scale_up.get("per_direction", 0.0), scale_up=link,
                nics_per_node=fact.get("nics_per_node", 1), nic_bandwidth=nic.get("bandwidth"),
                host_memory=fact.get("host_memory"), max_power=(fact.get("power") or {}).get("max"),
                metadata=_meta(fact))


def _fabric(fact: dict) -> NetworkFabric:
    return NetworkFabric(name=fact["name"], bandwidth=fact["bandwidth"], latency=fact.get("latency"),
                         topology=fact.get("topology", "fat-tree"),
                         oversubscription_ratio=fact.get("oversubscription", 1.0), metadata=_meta(fact))


def _rack(fact: dict) -> RackProfile:
    return RackProfile(name=fact["name"], power_kw=from_si(parse(fact["power"], "W", "rack power"), "kW"),
                       cooling_type=fact.get("cooling", "air"), nodes=fact.get("nodes_per_rack"),
                       node=fact.get("node"), metadata=_meta(fact))


def _build():
    data = load_data("systems")
    tiers = {k: DeploymentTier(name=f["name"], ram=f["ram"], storage=f["storage"],
                               typical_latency_budget=f["latency_budget"], metadata=_meta(f))
             for k, f in (data.get("tiers") or {}).items()}
    nodes = {k: _node(f) for k, f in (data.get("nodes") or {}).items()}
    fabrics = {k: _fabric(f) for k, f in (data.get("fabrics") or {}).items()}
    clusters = {k: Fleet(name=f["name"], node=nodes[f["node"]], count=f["count"], fabric=fabrics[f["fabric"]],
                         metadata=_meta(f))
                for k, f in (data.get("clusters") or {}).items()}
    racks = {k: _rack(f) for k, f in (data.get("racks") or {}).items()}
    pods = {k: PodEnvelope(name=f["name"], accelerator=Hardware.get(f["accelerator"]), chips=f["chips"],
                           memory=f["memory"], power=f["power"], topology=f.get("topology", ""), metadata=_meta(f))
            for k, f in (data.get("pods") or {}).items()}
    limits = {k: PowerLimit(name=k.replace("_", " "), power=f["power"], metadata=_meta(f))
              for k, f in (data.get("limits") or {}).items()}
    tier_ns = Registry("Tiers", "deployment tier", tiers)
    systems = Registry("Systems", "system", children={
        "Tiers": tier_ns, "Nodes": Registry("Nodes", "node", nodes), "Fabrics": Registry("Fabrics", "fabric", fabrics),
        "Clusters": Registry("Clusters", "cluster", clusters), "Racks": Registry("Racks", "rack", racks),
        "Pods": Registry("Pods", "pod", pods), "Limits": Registry("Limits", "limit", limits)})
    # 0.1.0 flat shortcuts to a representative accelerator of each tier
    for tier, hw in (("Cloud", "H100"), ("Edge", "JetsonOrinNX"), ("Mobile", "iPhone15Pro"), ("Tiny", "ESP32_S3")):
        systems._entries.setdefault(tier, Hardware.get(hw))
    return systems, tier_ns


Systems, Tiers = _build()

#: 0.1.0's registries of nodes, fabrics, clusters and racks: views of ``Systems``' namespaces
Nodes, Fabrics, Clusters, Racks = (Systems._children[k] for k in ("Nodes", "Fabrics", "Clusters", "Racks"))
