"""``mlsysim ui``: a local web page that shows the scorecard, roofline, serving curves and carbon as inputs change."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("ui", epilog="Examples:\n  mlsysim ui\n  mlsysim ui --port 9000 --no-browser")
    def ui_command(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (loopback: this machine only)"),
        port: int = typer.Option(8765, "--port", help="port to listen on (0: any free one)"),
        no_browser: bool = typer.Option(False, "--no-browser", help="print the address without opening a browser"),
    ):
        """Open the interactive page in a browser; Ctrl-C stops it."""
        import errno
        import signal
        import sys
        import webbrowser

        from ...errors import InputError
        from ...ui.server import make_server
        from ..output import choose, dumps

        fmt = choose(ctx, None, supported=("text", "json"))
        try:
            server = make_server(host, port)
        except OverflowError:
            raise InputError(f"--port must be from 0 to 65535, got {port}") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} is in use on {host}; choose another with --port (0 picks a free "
                                 f"one)") from None
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        url = f"http://{host}:{server.server_port}/"
        print(dumps({"status": "ok", "url": url}) if fmt == "json" else f"mlsysim ui at {url} (Ctrl-C stops it)",
              flush=True)
        if not no_browser:
            webbrowser.open(url)
        # Ctrl-C stops it even when started from a shell that ignores SIGINT in its children (a job started with &
        # or nohup), where Python would otherwise keep the inherited "ignore"
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
        finally:
            server.server_close()
