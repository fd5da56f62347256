"""Write ``tests/data/v010_api.json``: every public module of MLSys·im 0.1.0 and the public names it
defines, read by an AST walk (nothing of 0.1.0 is imported or run).

Why: the compatibility test (``tests/test_compat_010.py``) checks that code written against 0.1.0 still
imports and calls; the list it checks against is data, not memory. Recorded per module: the module-level
classes, functions and assignments not starting with ``_`` (a name the module imports from a third party,
such as ``np``, is not one it defines), the names in its ``__all__``, and, for a package ``__init__`` or
a module that defines nothing itself, the names it re-exports from its own package; for the solvers
(classes with a ``solve``) and the ``calc_*`` formulas, the parameter names of those callables too.

Input: the 0.1.0 wheel, unpacked::

    pip download mlsysim==0.1.0 --no-deps -d /tmp/m010 && unzip -q /tmp/m010/mlsysim-0.1.0-*.whl -d /tmp/m010/x
    python scripts/list_v010_api.py /tmp/m010/x/mlsysim
"""
from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "v010_api.json"


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    """Parameter names in order (``*args``/``**kwargs`` written with their stars), ``self`` dropped."""
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if method and names and names[0] in ("self", "cls"):
        names = names[1:]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    names += [p.arg for p in a.kwonlyargs]
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return names


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Assign):
        found = []
        for target in node.targets:
            found += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        return found
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _top_level(tree: ast.Module):
    """Statements at module level, those under a top-level ``if``/``try`` included."""
    for node in tree.body:
        if isinstance(node, ast.If):             # `if TYPE_CHECKING:`/try-fallbacks define names too
            body = node.body + node.orelse
        elif isinstance(node, ast.Try):
            body = node.body + [n for h in node.handlers for n in h.body]
        else:
            body = [node]
        yield from body


def _star_names(path: Path, module: str | None) -> set[str]:
    """The names ``from .module import *`` brings: the target's own public definitions."""
    target = path.parent / f"{module}.py" if module else None
    return set(describe(target)["names"]) if target and target.exists() else set()


def describe(path: Path) -> dict:
    """The public names a module defines at its top level, and the signatures the tests call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    imported: set[str] = set()
    reexported: set[str] = set()
    exported: set[str] = set()
    signatures: dict[str, list[str]] = {}
    for item in _top_level(tree):
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(item.name)
                if item.name.startswith("calc_"):
                    signatures[item.name] = _params(item, method=False)
            elif isinstance(item, ast.ClassDef):
                names.add(item.name)
                for member in item.body:
                    if isinstance(member, ast.FunctionDef) and member.name == "solve":
                        signatures[f"{item.name}.solve"] = _params(member, method=True)
            elif isinstance(item, ast.Import):
                imported.update((a.asname or a.name).split(".")[0] for a in item.names)
            elif isinstance(item, ast.ImportFrom):
                bound = {a.asname or a.name for a in item.names if a.name != "*"}
                if item.level:
                    reexported |= bound
                    if any(a.name == "*" for a in item.names):
                        reexported |= _star_names(path, item.module)
                else:
                    imported |= bound
            else:
                if _targets(item) == ["__all__"] and isinstance(item.value, (ast.List, ast.Tuple)):
                    exported.update(e.value for e in item.value.elts if isinstance(e, ast.Constant))
                names.update(_targets(item))
    names -= imported
    if path.name == "__init__.py" or not names:
        names |= reexported
    public = sorted(n for n in names | exported if not n.startswith("_"))
    return {"names": public, "signatures": {k: signatures[k] for k in sorted(signatures)
                                            if not k.startswith("_")}}


def inventory(root: Path) -> dict:
    """Every public module under ``root`` (the CLI's internals and ``__main__`` aside)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "cli" in parts or parts[-1] == "__main__" or any(p.startswith("_") for p in parts[1:-1]):
            continue
        modules[".".join(parts)] = describe(path)
    return modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="the unpacked 0.1.0 package folder (…/mlsysim)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = {"version": "0.1.0", "modules": inventory(args.root)}
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    count = sum(len(m["names"]) for m in data["modules"].values())
    print(f"{len(data['modules'])} modules, {count} names -> {args.out}")


if __name__ == "__main__":
    main()
