"""The simulator of the labs (0.1.0's ``mlsysim.sim``): personas, simulations and their ledger."""
from __future__ import annotations

from .ledger import EconomicMetrics, PerformanceMetrics, ReliabilityMetrics, SustainabilityMetrics, SystemLedger
from .personas import Persona, Personas
from .simulations import BaseSimulation, ResourceSimulation, SimulationResult

__all__ = ["BaseSimulation", "EconomicMetrics", "PerformanceMetrics", "Persona", "Personas",
           "ReliabilityMetrics", "ResourceSimulation", "SimulationResult", "SustainabilityMetrics",
           "SystemLedger"]
