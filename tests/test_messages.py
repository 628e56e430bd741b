"""Every judge message shape survives execnet's serializer, and the server speaks the same version."""

from __future__ import annotations

import typing

import execnet
import pytest

from editbench.judging import messages, server

SAMPLES = {
    messages.SetupRequest: {
        "version": 1,
        "kind": "setup",
        "backend": "qwen-vl",
        "options": {
            "model": "/m",
            "revision": None,
            "dtype": "auto",
            "device": "cpu",
            "max_pixels": 65536,
            "scores": {"SC": 7.0},
        },
        "parent_pid": 123,
    },
    messages.ReadyReply: {
        "version": 1,
        "kind": "ready",
        "pid": 42,
        "load_s": 1.5,
        "info": {"backend": "x"},
        "versions": {
            "python": "3.11.7",
            "executable": "/p",
            "torch": "2.13.0",
            "transformers": "5.24.0",
        },
    },
    messages.ScoreRequest: {
        "version": 1,
        "kind": "score",
        "id": "ab12",
        "method": "logit",
        "items": [{"dimension": "SC", "prompt": "物理 ７", "images": [b"\x89PNG\x00", b""]}],
        "decoding": {"max_new_tokens": 8, "temperature": 0.0, "samples": 1, "seed": 7},
    },
    messages.ScoreReply: {
        "version": 1,
        "kind": "scored",
        "id": "ab12",
        "seconds": 0.25,
        "results": [
            {"dimension": "SC", "score": 4.5, "mass": 0.9, "probs": [0.1] * 11, "texts": []},
            {
                "dimension": "PQ",
                "score": None,
                "mass": None,
                "probs": [],
                "texts": ['{"score": 7}'],
            },
        ],
        "versions": {"python": "3.11.7", "executable": "/p", "torch": None, "transformers": None},
    },
    messages.ErrorReply: {"version": 1, "kind": "error", "id": None, "error": "Traceback ..."},
    messages.CloseRequest: {"version": 1, "kind": "close"},
}


def test_server_speaks_the_message_version():
    assert server.PROTOCOL == messages.VERSION


@pytest.mark.parametrize("shape", messages.SHAPES, ids=lambda s: s.__name__)
def test_shape_round_trips(shape):
    sample = SAMPLES[shape]
    assert set(sample) == set(typing.get_type_hints(shape))
    assert execnet.loads(execnet.dumps(sample)) == sample


def test_numpy_or_str_subclass_would_not_cross():
    class Version(str):
        pass

    with pytest.raises(execnet.DataFormatError):
        execnet.dumps({"torch": Version("2.13.0")})


def test_server_replies_have_the_written_shapes():
    """The dicts the server builds (scored, error) carry exactly the TypedDict keys."""

    class Backend:
        def logit(self, items):
            return [{"score": 3.0, "mass": 0.5, "probs": [0.0] * 11} for _ in items]

        def generate(self, items, decoding):
            raise RuntimeError("boom")

    request = dict(SAMPLES[messages.ScoreRequest])
    reply = server.handle(Backend(), request)
    assert set(reply) == set(typing.get_type_hints(messages.ScoreReply))
    assert set(reply["results"][0]) == set(typing.get_type_hints(messages.ItemResult))
    assert execnet.loads(execnet.dumps(reply)) == reply
    error = server.handle(Backend(), {**request, "method": "generate"})
    assert set(error) == set(typing.get_type_hints(messages.ErrorReply))
    assert error["id"] == "ab12" and "RuntimeError: boom" in error["error"]
