"""0.1.0 path of the wall taxonomy (``mlsysim.analysis.walls``), with its one constant per wall
(``COMPUTE``, ``TAIL_LATENCY`` ...; ``ETHICS`` is 0.1.0's other name for ``SAFETY``)."""
from ..analysis.walls import ALL_WALLS, Domain, Wall, taxonomy, wall, walls_for_resolver, walls_in_domain

__all__ = ["ALL_WALLS", "Domain", "Wall", "taxonomy", "wall", "walls_for_resolver", "walls_in_domain"]

globals().update({w.name.upper().replace("-", "_").replace(" ", "_"): w for w in ALL_WALLS})
ETHICS = SAFETY  # noqa: F821 - set just above, from the taxonomy
