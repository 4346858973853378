"""A real HTTP receiver on loopback for apprise's json:// (what a chat webhook would get), started by a test.

    with Receiver("127.0.46.20") as rx:            # an ephemeral port
        url = rx.url("json", token="s3cr3tTok9")    # json://hook:s3cr3tTok9@127.0.46.20:PORT/notify
        ...
        rx.messages()                               # [{"title": ..., "message": ..., "type": ..., "auth": ...}]

``status`` / ``delay_s`` per title word make it answer 500 or answer late (a down or slow chat server).
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, host: str, fail_on: str = "", slow_on: str = "", delay_s: float = 0.0) -> None:
        self.host, self.fail_on, self.slow_on, self.delay_s = host, fail_on, slow_on, delay_s
        self._got: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {"raw": body.decode(errors="replace")}
                auth = self.headers.get("Authorization", "")
                doc["auth"] = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else auth
                doc["path"], doc["received"] = self.path, time.time()
                with rx._lock:
                    rx._got.append(doc)
                title = str(doc.get("title", ""))
                if rx.slow_on and rx.slow_on in title:
                    time.sleep(rx.delay_s)
                code = 500 if rx.fail_on and rx.fail_on in title else 200
                with contextlib.suppress(OSError):  # a sender that gave up (its timeout) closed the socket
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def url(self, scheme: str = "json", token: str = "", path: str = "notify") -> str:
        auth = f"hook:{token}@" if token else ""
        return f"{scheme}://{auth}{self.host}:{self.port}/{path}"

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._got)

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
