"""Why a number is what it is: sensitivity, synthesis, the differential explainer, efficiency losses,
the 22 walls, and pipelines of solvers."""
