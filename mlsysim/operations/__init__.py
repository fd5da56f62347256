"""Operating ML systems: power, energy, carbon and water, cost, reliability and checkpoints, data
ingestion, compression, scheduling, responsible engineering."""
