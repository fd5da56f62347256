"""``python -m mlsysim.labs``: each lab, what it shows, and the command that opens it in marimo's editor (the
files sit inside the installed package, where a pip user would not look for them)."""
from pathlib import Path

from . import LABS


def main() -> None:
    here = Path(__file__).parent
    for name, what in LABS.items():
        print(f"{name}: {what}\n    marimo edit {here / f'{name}.py'}")


if __name__ == "__main__":
    main()
