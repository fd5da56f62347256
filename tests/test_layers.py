"""The package's layers import only downward (DESIGN.md §2): the test reads every import statement of
every module, those inside functions included, and names each one that reaches a higher layer."""
from __future__ import annotations

import ast
from pathlib import Path

import mlsysim

PACKAGE = Path(mlsysim.__file__).parent

#: lowest first; a module may import its own layer and those below. The operator vocabulary sits with
#: units and errors at the bottom because the facts' schemas name operator kinds, precisions and fusions.
LAYERS = [
    {"units", "errors", "ops", "core", "formulas"},                  # units, errors, the vocabulary, formulas
    {"zoo"},                                                          # facts and their schemas
    {"hardware", "models", "systems", "infra", "execution"},          # types and registries
    {"run", "solver"},                                                # the run description, the solver contract
    {"engine"},                                                       # timing
    {"serving", "training", "operations", "analysis"},                # lenses
    {"optimize"},                                                     # search
    {"evaluation", "plan", "scenarios"},                              # composition
    {"cli", "show", "viz", "validation", "solvers", "sweep", "ui", "labs", "mcp_server", "sim", "fmt", "__main__",
     ""},                                                             # surfaces (and the package itself)
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}
#: ``core``'s own modules (the record base and slices); every other module under ``core/`` is one of 0.1.0's
#: paths re-exporting the layered packages (a drop-in for 0.1.0), and sits with the surfaces
CORE_OWN = {"core", "core.types", "core.slices"}
#: ... except the configuration of runs (0.1.0's ``core.config``: the default stack), which the run description reads
CORE_PLACED = {"core.config": LAYER["run"]}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every mlsysim module ``path`` imports, as dotted names (``from x import y`` counts x.y too: y
    may be a module)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "mlsysim")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "mlsysim":
                target = node.module
            else:
                continue
            if target != "mlsysim":          # `from .. import units` reaches units, not the whole package
                found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return found


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "core" and ".".join(parts[1:3]) not in CORE_OWN:
        return CORE_PLACED.get(".".join(parts[1:3]), len(LAYERS) - 1)
    return LAYER.get(parts[1] if len(parts) > 1 else "")


def test_every_package_has_a_layer():
    packages = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
                if (p.suffix == ".py" or (p / "__init__.py").exists())}
    packages.discard("__init__")
    assert packages - set(LAYER) == set(), "add the new package to a layer in LAYERS"


def test_imports_only_go_down():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module(path)
        low = _layer_of(source)
        for target in _imports(path):
            high = _layer_of(target)
            if high is not None and high > low:
                upward.append(f"{source} imports {target} (layer {high} > {low})")
    assert upward == []


def test_the_reader_resolves_relative_imports():
    """What the check rests on: ``from ..ops import x`` in engine/timing.py is read as mlsysim.ops."""
    imports = _imports(PACKAGE / "engine" / "timing.py")
    assert {"mlsysim.ops", "mlsysim.errors", "mlsysim.execution"} <= imports
    assert _layer_of("mlsysim.serving.serving") > _layer_of("mlsysim.engine.timing") > _layer_of("mlsysim.ops")
