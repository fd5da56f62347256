"""``mlsysim mcp``: an MCP server on stdin/stdout, so agents call the commands as tools (the ``mcp`` extra)."""
from __future__ import annotations

import typer

EXAMPLES = """Example (an MCP client's server entry, e.g. in its JSON configuration):
  {"mlsysim": {"command": "mlsysim", "args": ["mcp"]}}"""


def register(app: typer.Typer) -> None:
    @app.command("mcp", epilog=EXAMPLES)
    def mcp_command():
        """Serve evaluate, serve, optimize, zoo, validate and explain as MCP tools over stdio (for agents)."""
        from ...errors import MlsysimError

        try:
            from ...mcp_server import main
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types"):
                raise
            raise MlsysimError("the MCP server needs the mcp extra: pip install 'mlsysim[mcp]'") from None
        main()
