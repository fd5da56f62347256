"""The 0.1.x path of every solver: ``mlsysim.solvers.ServingModel`` and the rest, each living in its lens
package (``serving``, ``training``, ``operations``, ``analysis``, ``optimize``)."""


def __getattr__(name: str):
    import mlsysim

    from ..solver import Solver

    value = getattr(mlsysim, name) if name in mlsysim._EXPORTS else None
    if isinstance(value, type) and (issubclass(value, Solver) or name == "Engine"):
        return value
    raise AttributeError(f"module 'mlsysim.solvers' has no attribute '{name}'")
