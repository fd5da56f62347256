"""Registries: nested namespaces over the facts files, with both 0.1.0 path styles.

``load_data`` reads a facts file once per process and checks it against its schema
(``zoo/facts.py``, ``zoo/schemas/``) before any record is built from it.

``Hardware.Cloud.H100`` and ``Hardware.H100`` reach the same object; an unknown name raises
one sentence with the closest names. Each namespace knows each entry's registry key and
source, which is what ``mlsysim zoo`` lists.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import InputError, UnknownNameError
from .facts import check_file

DATA = Path(__file__).parent / "data"


class _StrictLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise InputError(f"duplicate key '{key}' at line {key_node.start_mark.line + 1} "
                                 f"of {getattr(self, 'name', 'YAML')}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path, what: str) -> dict:
    """A user's YAML file (a device, a model) as a mapping: a missing file, malformed YAML or a key given
    twice is one sentence naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} file '{path}' not found")
    try:
        with open(path, encoding="utf-8") as fh:
            loader = _StrictLoader(fh)
            loader.name = path.name
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(f"{path}: malformed YAML at line {mark.line + 1}, column {mark.column + 1}: "
                         f"{exc.problem}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not a YAML {what} file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a {what} file must be a mapping of keys")
    return data


@lru_cache(maxsize=None)
def load_data(name: str) -> dict:
    """The parsed facts file ``zoo/data/<name>.yaml``, checked against its schema (read once per process)."""
    path = DATA / f"{name}.yaml"
    with open(path, encoding="utf-8") as fh:
        loader = _StrictLoader(fh)
        loader.name = path.name
        try:
            data = loader.get_single_data() or {}
        finally:
            loader.dispose()
    check_file(name, data)
    return data


class Registry:
    """A namespace of entries and sub-namespaces.

    Attribute access finds an entry here or, for flat aliases, in any sub-namespace. With
    ``build``, ``entries`` are facts (already checked at load) and each becomes its record on
    first access, so a CLI call that needs one accelerator builds one.
    """

    def __init__(self, name: str, kind: str, entries=None, children=None, aliases=None, build=None):
        self._name, self._kind = name, kind
        self._entries: dict[str, object] = dict(entries or {})
        self._children: dict[str, Registry] = dict(children or {})
        self._aliases: dict[str, str] = dict(aliases or {})
        self._build = build
        self._records: dict[str, object] = {}      # built from ``entries`` when ``build`` is given
        self._keys: dict[int, str] | None = None    # id(entry) -> key, and -> tier: built on first use
        self._tiers: dict[int, str] | None = None

    # -- lookup -------------------------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        found = self._find(name)
        if found is None:
            raise UnknownNameError(self._kind, name, self.names())
        return found

    def __getitem__(self, name: str):
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return self._find(name) is not None or self._find_ci(name) is not None

    def __dir__(self):
        return sorted(set(self._children) | set(self._entries) | set(self._aliases) | {"list", "get", "items"})

    def __repr__(self) -> str:
        return f"<{self._name}: {len(self.items())} {self._kind} entries>"

    def _entry(self, key: str):
        if self._build is None:
            return self._entries[key]
        if key not in self._records:       # setdefault: racing threads still share one record
            self._records.setdefault(key, self._build(self._entries[key]))
        return self._records[key]

    def _find(self, name: str):
        if name in self._children:
            return self._children[name]
        if name in self._entries:
            return self._entry(name)
        if name in self._aliases:
            return self._find(self._aliases[name])
        for child in self._children.values():
            hit = child._find(name)
            if hit is not None and not isinstance(hit, Registry):
                return hit
        return None

    def _find_ci(self, name: str):
        low = name.lower().replace("-", "_").replace(" ", "_")
        for key, value in self.items() + [(a, self._find(t)) for a, t in self._all_aliases()]:
            if key.lower() == low or key.lower().replace("_", "") == low.replace("_", ""):
                return value
        return None

    def get(self, name):
        """An entry by registry name or alias (case-insensitive); an entry object passes through."""
        if not isinstance(name, str):
            return name
        hit = self._find(name)
        if hit is None or isinstance(hit, Registry):
            hit = self._find_ci(name)
        if hit is None:
            raise UnknownNameError(self._kind, name, self.names())
        return hit

    # -- walking ------------------------------------------------------------------------------
    def items(self) -> list[tuple[str, object]]:
        """(registry key, entry) for every entry here and below, each object once."""
        out, seen = [], set()
        for key in self._entries:
            value = self._entry(key)
            if id(value) not in seen:
                seen.add(id(value))
                out.append((key, value))
        for child in self._children.values():
            for key, value in child.items():
                if id(value) not in seen:
                    seen.add(id(value))
                    out.append((key, value))
        return out

    def _all_aliases(self):
        yield from self._aliases.items()
        for child in self._children.values():
            yield from child._all_aliases()

    def names(self) -> list[str]:
        return [k for k, _ in self.items()] + [a for a, _ in self._all_aliases()]

    def key_of(self, entry) -> str | None:
        """The registry key of ``entry``, or None (a table built once: sweeps ask it per point)."""
        if self._keys is None:
            self._keys = {}
            for key, value in self.items():
                self._keys.setdefault(id(value), key)
        return self._keys.get(id(entry))

    def tier_of(self, entry) -> str | None:
        """The sub-namespace (tier) holding ``entry``, or None."""
        if self._tiers is None:
            self._tiers = {}
            for tier, child in self._children.items():
                for _, value in child.items():
                    self._tiers.setdefault(id(value), tier)
        return self._tiers.get(id(entry))

    def list(self, sort_by: str | None = None, reverse: bool = False) -> list:
        """Every entry here and below; optionally sorted by a dotted attribute path."""
        entries = [v for _, v in self.items()]
        if sort_by:
            def key(entry):
                value = entry
                for part in sort_by.split("."):
                    value = getattr(value, part, None)
                    if value is None:
                        return 0.0
                try:
                    return float(value)
                except (TypeError, ValueError):
                    return 0.0
            entries.sort(key=key, reverse=reverse)
        return entries
