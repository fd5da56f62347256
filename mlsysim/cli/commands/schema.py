"""``mlsysim schema``: JSON Schema of plans, hardware and workloads, for editors and validators."""
from __future__ import annotations

import typer

from ..output import choose, dumps

TYPES = ("plan", "hardware", "workload", "evaluation")


def register(app: typer.Typer) -> None:
    @app.command("schema", epilog="Example:\n  mlsysim schema --type plan > mlsys.schema.json")
    def schema_command(
        ctx: typer.Context,
        kind: str = typer.Option("plan", "--type", "-t",
                                 help="plan, hardware, workload or evaluation (the eval -o json envelope)"),
        output: str = typer.Option(None, "--output", "-o", help="json (a schema is always JSON)"),
    ):
        """Print the JSON Schema of a plan file, a hardware entry or a workload."""
        from ...errors import InputError

        choose(ctx, output, supported=("text", "json"))
        if kind == "plan":
            from ...plan import plan_schema
            schema = plan_schema()
        elif kind == "hardware":
            from ...hardware.types import HardwareNode
            schema = HardwareNode.model_json_schema()
        elif kind == "workload":
            from ...models.types import TransformerWorkload
            schema = TransformerWorkload.model_json_schema(by_alias=True)
        elif kind == "evaluation":
            from ...evaluation import envelope_schema
            schema = envelope_schema()
        else:
            raise InputError(f"unknown schema type '{kind}'; use one of {', '.join(TYPES)}")
        print(dumps(schema))
