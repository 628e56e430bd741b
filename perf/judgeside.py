"""Judge-interpreter side of `editbench perf`: scoring in-process, and the old subprocess way.

Standalone like `editbench.judging.remote` (standard library only at module level; the judge
environment has no editbench): it loads that server module by path and scores with its
`load_backend` and `handle`, so only the transport differs between the ways measured.

- Sent with execnet's `remote_exec` (`__channelexec__`): receives a setup message, loads the
  backend once, then answers each list of score requests with the in-process seconds of each
  `handle` call and its results. Only that call is timed: no transport inside the clock.
- Run as a script (`python judgeside.py SERVER IN.json OUT.json`): the old way, one process per
  batch: read base64 images from JSON, load the model, score, write JSON, exit.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import time


def load_server(path: str):
    spec = importlib.util.spec_from_file_location("editbench_judge_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(server, backend, requests: list) -> list:
    """[(seconds, reply)] for each request, timing `handle` alone."""
    out = []
    for request in requests:
        start = time.perf_counter()
        reply = server.handle(backend, request)
        out.append((time.perf_counter() - start, reply))
    return out


def serve(channel) -> None:
    setup = channel.receive()
    server = load_server(setup["server"])
    start = time.perf_counter()
    backend = server.load_backend(setup["backend"], setup["options"])
    load_s = time.perf_counter() - start
    info = json.loads(json.dumps(backend.info(), default=str))
    channel.send({"kind": "ready", "load_s": load_s, "info": info})
    while True:
        requests = channel.receive()
        if requests is None:
            return
        if isinstance(requests, dict) and "save" in requests:
            channel.send(save(setup["options"]["model"], backend, requests["save"]))
            continue
        channel.send([{"seconds": s, "reply": r} for s, r in timed(server, backend, requests)])


def save(source: str, backend, folder: str) -> str:
    """A servable checkpoint of the loaded judge: the source checkpoint's tokenizer, processor and
    chat template, then the backend's own model (e.g. the random real-size one) written over it."""
    import shutil

    shutil.copytree(source, folder, dirs_exist_ok=True)
    backend.model.save_pretrained(folder)
    return folder


def old_way(server_path: str, in_path: str, out_path: str) -> None:
    """One batch the old way: JSON with base64 images in, model loaded, scores out as JSON."""
    with open(in_path, encoding="utf-8") as handle:
        batch = json.load(handle)
    server = load_server(server_path)
    backend = server.load_backend(batch["backend"], batch["options"])
    replies = []
    for request in batch["requests"]:
        for item in request["items"]:
            item["images"] = [base64.b64decode(text) for text in item["images"]]
        replies.append(server.handle(backend, request))
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump({"replies": replies}, handle)


if __name__ == "__channelexec__":
    serve(channel)  # noqa: F821 - execnet provides `channel`

if __name__ == "__main__":
    old_way(*sys.argv[1:4])
