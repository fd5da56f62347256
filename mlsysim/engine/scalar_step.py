"""One configuration's step timing written out as straight-line Python, once per operator list.

A solve of one configuration (a serving request, a point of a search) is a dozen operators; NumPy
spends a microsecond per call on arrays that small, and a Python loop over the operators spends
most of its time unpacking constants and taking branches whose outcome is the same every call.
So, the way ``dataclasses`` writes an ``__init__``, each operator list gets a function with its
constants inlined, and each pattern of tile branches a function that leaves out the branches its
operators never take (shared by every list, so a new list compiles only its own short lines): the formula of
:func:`~mlsysim.engine.timing._tiled` and :func:`~mlsysim.engine.timing.step_times`, operation for
operation, on floats (``tests/test_timing.py`` holds the two equal).
"""
from __future__ import annotations

import math


def _lit(x: float) -> str:
    """A float as source that evaluates to exactly it."""
    x = float(x)
    if math.isfinite(x):
        return repr(x) if x >= 0.0 else f"({x!r})"
    return "inf" if x > 0 else ("(-inf)" if x < 0 else "nan")


#: the tile constants a tiled operator's function takes after its five sizes, in :func:`compile_step`'s order
_TILE = ("nsel", "tm0", "tn0", "floor", "uk", "ksi", "rhalf", "pre", "dec", "amod", "apen")
_TILED: dict = {}


def _tiled(pattern: tuple):
    """``tiled(f, M, N, K, G, rate x tile area, *tile constants) -> compute seconds`` (``timing._tiled`` on
    floats) for the operators whose constants take the same branches; written once per pattern, so an
    operator list costs one call per tiled operator and no compiling beyond its own short lines."""
    found = _TILED.get(pattern)
    if found is not None:
        return found
    nsel, shrink_m, shrink_n, pre, dec, waves, apen = pattern
    lines = ["Mq = M if M > 1.0 else 1.0", "Kq = K if K > 1.0 else 1.0", "Gq = G if G > 1.0 else 1.0",
             "red = Kq", "Mt = Mq",
             # N is a tile column for GEMMs and convolutions; the other kinds tile M alone
             "Nt = N if N > 1.0 else 1.0" if nsel else "Nt = 1.0"]
    if pre or dec:
        lines.append("q = f / (Kq * Gq)")
        if pre:
            lines.append("red = Kq + pre * (q / Mq - Kq)")
        if dec:
            lines.append("Mt = Mq + dec * (q / (N if N > 1.0 else 1.0) - Mq)")
    for dim, name, shrink in (("Mt", "tm", shrink_m), ("Nt", "tn", shrink_n)):
        lines.append(f"{name} = {name}0")
        if shrink:        # shorter than its tile: the smallest power of two >= it, not below the floor
            lines += [f"if {dim} < {name}:",
                      f"    mantissa, e = frexp({dim})",
                      "    p2 = ldexp(0.5 if mantissa == 0.5 else 1.0, e)",
                      f"    {name} = p2 if p2 > floor else floor"]
    lines += ["fill_m = Mt / tm", "fill_n = Nt / tn", "cmn = -(-fill_m // 1.0) * -(-fill_n // 1.0)",
              "rate_area = rate_area * (fill_m * fill_n)"]
    if waves:
        lines += ["n_tiles = cmn * Gq", "s_k = uk / n_tiles", "if Kq * ksi < s_k: s_k = Kq * ksi",
                  "if s_k < 1.0: s_k = 1.0", "n_tiles = n_tiles * s_k",
                  "num = f * (red + rhalf * s_k) * cmn * -(-(n_tiles / uk) // 1.0)",
                  "den = rate_area * red * n_tiles"]
    else:
        lines += ["num = f * (red + rhalf) * cmn", "den = rate_area * red"]
    if apen:       # a reduction not 16-byte aligned (convolutions)
        lines.append("den = den * ((1.0 if fmod(Kq, amod) else 0.0) * apen + 1.0)")
    found = _TILED[pattern] = _function(f"tiled(f, M, N, K, G, rate_area, {', '.join(_TILE)})",
                                        lines + ["return num / den"])
    return found


def _function(signature: str, lines: list[str], names: dict | None = None):
    """A function written from its signature and body lines, seeing ``names`` besides the math it uses."""
    namespace = {**(names or {}), "frexp": math.frexp, "ldexp": math.ldexp, "fmod": math.fmod, "inf": math.inf,
                 "nan": math.nan}
    source = f"def {signature}:\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(source, "<mlsysim step>", "exec"), namespace)
    return namespace[signature[:signature.index("(")]]


def compile_step(constants: list[tuple], waves: bool, efficiency: bool, host_ahead: bool, each: bool):
    """``step(v, efficiency) -> (compute seconds per operator, memory seconds per operator, (compute-bound,
    memory-bound, overhead seconds))`` for operators whose seven numbers (flops, bytes, M, N, K, G, count)
    lie one after another in ``v``; the per-operator lists are empty unless ``each``. ``constants`` is
    each operator's (small-transfer ramp in bytes, 1/bandwidth, peak, launch seconds, rate x tile area,
    tile constants or None, seconds per FLOP as a matrix-vector kernel or None); ``efficiency``:
    whether a given compute efficiency replaces the calibrated one."""
    lines, helpers = ["compute = memory = overhead = 0.0"], {}
    for i, (ramp, inv_bw, peak, launch, rate_area, tile, gemv) in enumerate(constants):
        o = 7 * i
        lines.append(f"tm{i} = (v[{o + 1}] + {_lit(ramp)}) * {_lit(inv_bw)}")
        if efficiency:
            lines.append(f"tc{i} = v[{o}] / ({_lit(peak)} * eff)")
        elif tile is None:
            lines.append(f"tc{i} = v[{o}] / {_lit(rate_area)}")
        else:
            nsel, tm, tn, floor, uk, ksi, rhalf, pre, dec, amod, apen = tile
            name = f"tiled{i}"
            helpers[name] = _tiled((bool(nsel), floor < tm, floor < tn, bool(pre), bool(dec), waves, bool(apen)))
            sizes = ", ".join(f"v[{o + j}]" for j in (0, 2, 3, 4, 5))
            lines.append(f"tc{i} = {name}({sizes}, {', '.join(_lit(x) for x in (rate_area,) + tile)})")
            if gemv is not None:      # or a matrix-vector kernel at the vector rate, whichever is faster
                lines += [f"g = v[{o}] * {_lit(gemv)}", f"if g < tc{i}: tc{i} = g"]
        lines += [f"count = v[{o + 6}]",
                  f"if tc{i} >= tm{i}:", f"    compute += tc{i} * count", f"    busy = tc{i}",
                  "else:", f"    memory += tm{i} * count", f"    busy = tm{i}"]
        if not host_ahead:         # replayed from a graph: every launch gap adds to its kernel
            lines.append(f"overhead += {_lit(launch)} * count")
        else:                      # the host runs ahead: a launch costs only beyond the kernel it overlaps
            lines.append(f"if {_lit(launch)} > busy: overhead += ({_lit(launch)} - busy) * count")
    n = len(constants)
    listed = (f"[{', '.join(f'tc{i}' for i in range(n))}], [{', '.join(f'tm{i}' for i in range(n))}]" if each
              else "[], []")
    return _function("step(v, eff)", lines + [f"return {listed}, (compute, memory, overhead)"], helpers)
