"""Solvers, one module per concern, all following ``solvers.base``: ``Solver().solve(**inputs) -> Result``."""
