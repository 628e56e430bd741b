"""A local server that answers in vLLM's documented OpenAI-compatible format, for contract tests.

vLLM cannot be installed on CPU machines, so this stands in for `vllm serve`: `GET /v1/models`
(with `root`), `GET /version`, and `POST /v1/chat/completions` answering a `chat.completion`
whose `choices[0].logprobs.content[0].top_logprobs` lists `{token, logprob, bytes}` entries, as
vLLM's `ChatCompletionLogProbsContent` does. It checks the request the way vLLM would (API key,
`top_logprobs` at most `--max-logprobs`, `continue_final_message` without a generation prompt)
and records every request body so a test can read what the harness sent.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "Qwen/Qwen3-VL-8B-Instruct"
MAX_LOGPROBS = 20
# P(first token) and P(next token after an assistant prefix "1") the fake judge answers with
FIRST = {"7": 0.5, " 7": 0.1, "8": 0.2, "1": 0.1, "Sure": 0.1}
AFTER_ONE = {"0": 0.6, ".": 0.4}
ANSWER = '{"score": 7, "reasoning": "stand-in"}'


class VLLMFormatServer:
    def __init__(self, key: str | None = None, logprobs: bool = True) -> None:
        self.key, self.logprobs = key, logprobs
        self.bodies: list[dict] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> VLLMFormatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, body: dict) -> tuple[int, dict]:
        if body.get("model") != MODEL:
            return 404, {
                "object": "error",
                "message": f"The model `{body.get('model')}` does not exist.",
            }
        if int(body.get("top_logprobs") or 0) > MAX_LOGPROBS:
            return 400, {"object": "error", "message": "top_logprobs exceeds --max-logprobs"}
        if body.get("continue_final_message") and body.get("add_generation_prompt", True):
            return 400, {
                "object": "error",
                "message": "continue_final_message needs add_generation_prompt false",
            }
        last = body["messages"][-1]
        after_one = last["role"] == "assistant" and last["content"] in ("1", " 1")
        probs = AFTER_ONE if after_one else FIRST
        text = max(probs, key=probs.get) if body.get("logprobs") else ANSWER
        logprobs = None
        if body.get("logprobs") and self.logprobs:
            top = [_entry(t, p) for t, p in sorted(probs.items(), key=lambda kv: -kv[1])]
            logprobs = {
                "content": [
                    {**_entry(text, probs[text]), "top_logprobs": top[: body["top_logprobs"]]}
                ]
            }
        return 200, {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": 0,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "tool_calls": []},
                    "logprobs": logprobs,
                    "finish_reason": "length" if body.get("logprobs") else "stop",
                    "stop_reason": None,
                }
            ],
            "usage": {"prompt_tokens": 10, "total_tokens": 11, "completion_tokens": 1},
        }


def _entry(token: str, p: float) -> dict:
    return {"token": token, "logprob": math.log(p), "bytes": list(token.encode("utf-8"))}


def _handler(server: VLLMFormatServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, data: dict) -> None:
            body = json.dumps(data).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
                self._send(401, {"error": "Unauthorized"})
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if not self._authorized():
                return
            if self.path == "/v1/models":
                model = {"id": MODEL, "object": "model", "root": MODEL, "max_model_len": 16384}
                self._send(200, {"object": "list", "data": [model]})
            elif self.path == "/version":
                self._send(200, {"version": "0.0.0-standin"})
            elif self.path == "/health":
                self._send(200, {})
            else:
                self._send(404, {"detail": "Not Found"})

        def do_POST(self) -> None:  # noqa: N802
            if not self._authorized():
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.bodies.append(body)
            self._send(*server.answer(body))

    return Handler
