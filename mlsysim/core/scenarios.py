"""0.1.0 path of the scenarios (``mlsysim.scenarios``), with 0.1.0's ``Archetypes``: older textbook
names for a few of them, as a view of the same registry."""
from ..scenarios import Applications, Scenario, Scenarios
from ..systems.types import Fleet
from ..zoo.registry import Registry

Archetypes = Registry("Archetypes", "scenario", {
    "Cloud_V100": Scenarios.FrontierTraining, "TinyML_M7": Scenarios.SmartDoorbell,
    "Frontier": Scenarios.FrontierTraining, "AutoDrive": Scenarios.AutonomousVehicle,
    "Doorbell": Scenarios.SmartDoorbell})

__all__ = ["Applications", "Archetypes", "Fleet", "Scenario", "Scenarios"]
