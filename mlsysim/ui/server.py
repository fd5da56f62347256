"""The HTTP server of ``mlsysim ui``: the page at ``/``, its answers as JSON at ``/api/<name>``.

The standard library's ``ThreadingHTTPServer`` and one self-contained page: no extra dependency, it starts in
milliseconds, works offline, and the answers are the package's own JSON (``figures``).
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

from ..cli.output import dumps
from ..errors import MlsysimError
from .figures import ANSWERS

#: one solve at a time: the registries load on first use and the answers share a cache
_SOLVING = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    page: bytes = b""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(200, self.page, "text/html; charset=utf-8")
            return
        answer = ANSWERS.get(url.path.removeprefix("/api/")) if url.path.startswith("/api/") else None
        if answer is None:
            self._json(404, {"error": f"there is no page or answer at {url.path}"})
            return
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            with _SOLVING:
                body = answer(query)
        except MlsysimError as exc:
            self._json(400, {"error": " ".join(str(exc).split())})
            return
        except Exception as exc:  # anything unforeseen is still one sentence, never a hung page
            self._json(500, {"error": f"internal error: {' '.join(str(exc).split()) or type(exc).__name__}"})
            return
        self._json(200, body)

    def _json(self, code: int, body: dict) -> None:
        self._send(code, dumps(body).encode(), "application/json")

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        """Quiet: the terminal shows the URL, not a line per request."""


def make_server(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0: any free one), not yet serving; OSError when it cannot bind."""
    handler = type("Handler", (_Handler,), {"page": files(__package__).joinpath("page.html").read_bytes()})
    return ThreadingHTTPServer((host, port), handler)
