"""Schema of ``reliability.yaml``: ``profiles: <name>: {...}``, component failure counts over unit-hours."""
from ..facts import block, choice, entries, number, positive, register, required, text

UNITS = ("gpu", "nic", "psu", "node")


def _units_exposed(profile: dict) -> None:
    for name, component in profile["components"].items():
        if component["per"] not in profile["exposure"]:
            raise ValueError(f"'components.{name}.per' is {component['per']!r}, which 'exposure' does not give")


COMPONENT = block(per=required(choice(*UNITS)), count=required(number(ge=0)), note=text)
PROFILE = block(check=_units_exposed, name=required(text), exposure=required(block(**dict.fromkeys(UNITS, positive))),
                components=required(entries(COMPONENT)), source=required(text))

register("reliability", block(profiles=required(entries(PROFILE))), entry_depth=2)
