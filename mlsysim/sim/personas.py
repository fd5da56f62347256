"""Personas: the deployment tiers a simulation speaks for (0.1.0's ``mlsysim.sim.personas``).

A persona says how many copies of a scenario's system its world runs (``scale_factor``: one cluster, a fleet
of vehicles, a user base of phones, an installed base of sensors) and which wall it answers to first.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Persona:
    """A deployment tier: ``scale_factor`` multiplies the scenario's system (a single device becomes that many
    devices, a cluster that many clusters); ``primary_constraint`` is the wall it answers to first."""

    name: str
    role: str
    description: str
    scale_factor: float
    primary_constraint: str
    unit_of_scale: str


class Personas:
    """The four personas of the curriculum, keyed ``cloud``, ``edge``, ``mobile`` and ``tiny``."""

    CloudTitan = Persona(
        name="Cloud Titan", role="LLM Infrastructure Lead",
        description="Runs the clusters that train and serve frontier models; one cluster is the unit.",
        scale_factor=1.0, primary_constraint="Total Cost of Ownership (TCO) & Grid Stability",
        unit_of_scale="Cluster")
    EdgeGuardian = Persona(
        name="Edge Guardian", role="Autonomous Systems Lead",
        description="Keeps ten thousand vehicles' perception on time, every frame.",
        scale_factor=10_000.0, primary_constraint="Latency Determinism & Safety", unit_of_scale="Fleet")
    MobileNomad = Persona(
        name="Mobile Nomad", role="Smartphone App Architect",
        description="Ships one model to a hundred million phones and pays in battery.",
        scale_factor=100_000_000.0, primary_constraint="Battery Life & UX Responsiveness",
        unit_of_scale="Global User Base")
    TinyPioneer = Persona(
        name="Tiny Pioneer", role="Smart Doorbell Product Lead",
        description="Keeps ten million always-on sensors listening within milliwatts and kilobytes.",
        scale_factor=10_000_000.0, primary_constraint="Embodied Carbon & SRAM Limits",
        unit_of_scale="Installed Base")

    _KEYS = {"cloud": "CloudTitan", "edge": "EdgeGuardian", "mobile": "MobileNomad", "tiny": "TinyPioneer"}

    @classmethod
    def get(cls, key: str) -> Persona:
        """The persona for ``key`` (``cloud``, ``edge``, ``mobile``, ``tiny``, or a class attribute's name,
        any case). 0.1.0 fell back to Cloud Titan for an unknown key; this refuses it."""
        if isinstance(key, Persona):
            return key
        text = str(key).strip()
        attr = cls._KEYS.get(text.lower()) or next((a for a in cls._KEYS.values() if a.lower() == text.lower()),
                                                   None)
        if attr is None:
            raise InputError(f"unknown persona {key!r}; use one of {', '.join(cls._KEYS)}")
        return getattr(cls, attr)

    @classmethod
    def items(cls) -> list[tuple[str, Persona]]:
        return [(k, getattr(cls, a)) for k, a in cls._KEYS.items()]
