"""Schema of ``compression.yaml``: ``results``, a list of published accuracy changes, each named by its ``id``."""
from ..facts import block, choice, count, flag, fraction, items, nullable, number, positive, register, required, text

#: the keys each method's rows must give (the file's header)
_METHOD_KEYS = {"quantization": ("bits",), "pruning": ("sparsity", "pattern"), "distillation": ("student_parameters",)}


def _method_keys_given(row: dict) -> None:
    for key in _METHOD_KEYS[row["method"]]:
        if key not in row:
            raise ValueError(f"missing required key '{key}' (method {row['method']})")


RESULT = block(
    check=_method_keys_given,
    id=required(text),
    method=required(choice(*_METHOD_KEYS)),
    technique=required(text),
    bits=count,
    weight_only=flag,
    format=choice("int", "fp"),
    sparsity=fraction,
    pattern=choice("unstructured", "structured", "2:4", "4:8"),
    student_parameters=positive,
    model=required(text),
    family=text,
    metric=required(text),
    baseline=required(nullable(number())),
    compressed=required(nullable(number())),
    delta=required(number()),
    higher_is_better=required(flag),
    bound=flag,
    note=text,
    source=required(text),
)

register("compression", block(results=required(items(RESULT))), entry_depth=2)
