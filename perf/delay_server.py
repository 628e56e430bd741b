"""A local OpenAI-compatible judge that costs time, not CPU: every answer comes after a fixed delay.

It stands in for a remote API judge (GPT-4.1 behind service mode, a busy vLLM elsewhere) in the
overlap measurement of `editbench perf`: the worker waits on the network while its CPU is free.
`GET /v1/models` lists one model, `GET /version` answers, and `POST /v1/chat/completions` sleeps
`delay_s`, then answers `{"score": 7, ...}` as a written (generate) answer the harness parses.
Threaded, so the requests a worker sends at once (one per dimension) wait at the same time, as a
remote API's do. Adopt it with `judge.mode: service` and `judge.url`:

    python -m perf.delay_server --delay 2.0 --port 8011
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "perf-delay"
ANSWER = json.dumps({"score": 7, "reasoning": "a fixed answer after a fixed delay"})


class DelayServer:
    """The server on 127.0.0.1 (a free port unless given), served by a daemon thread."""

    def __init__(self, delay_s: float, port: int = 0) -> None:
        self.delay_s = float(delay_s)
        self.requests = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> DelayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(server: DelayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.rstrip("/") == "/v1/models":
                self._json({"object": "list", "data": [{"id": MODEL, "object": "model"}]})
            elif self.path.rstrip("/") == "/version":
                self._json({"version": f"delay-{server.delay_s:g}s"})
            else:
                self._json({"error": f"no route {self.path}"}, 404)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json({"error": f"no route {self.path}"}, 404)
                return
            with server.lock:
                server.requests += 1
            time.sleep(server.delay_s)
            message = {"role": "assistant", "content": ANSWER}
            self._json(
                {
                    "object": "chat.completion",
                    "model": MODEL,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m perf.delay_server", description=__doc__)
    parser.add_argument("--delay", type=float, required=True, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args()
    with DelayServer(args.delay, args.port) as server:
        print(f"{server.url} answers after {server.delay_s:g} s (Ctrl-C to stop)", flush=True)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
