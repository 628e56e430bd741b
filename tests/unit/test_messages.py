"""Every judge message shape survives execnet's serializer, and the judge speaks one protocol version."""

from __future__ import annotations

import typing

import execnet
import pytest

from editbench.judging import remote

SAMPLES = {
    remote.SetupRequest: {
        "version": remote.PROTOCOL,
        "kind": "setup",
        "backend": "qwen-vl",
        "options": {
            "method": "logit",
            "model": "/m",
            "revision": None,
            "dtype": "auto",
            "device": "cpu",
            "max_pixels": 65536,
            "scores": {"SC": 7.0},
            "fast_decode": "auto",
        },
        "parent_pid": 123,
    },
    remote.ReadyReply: {
        "version": remote.PROTOCOL,
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
    remote.ScoreRequest: {
        "version": remote.PROTOCOL,
        "kind": "score",
        "id": "ab12",
        "method": "logit",
        "items": [{"dimension": "SC", "prompt": "物理 ７", "images": [b"\x89PNG\x00", b""]}],
        "decoding": {"max_new_tokens": 8, "temperature": 0.0, "samples": 1, "seed": 7},
    },
    remote.ScoreReply: {
        "version": remote.PROTOCOL,
        "kind": "scored",
        "id": "ab12",
        "seconds": 0.25,
        "results": [
            {
                "dimension": "SC",
                "score": 4.5,
                "mass": 0.9,
                "probs": [0.1] * 11,
                "unseen": [10],
                "texts": [],
            },
            {
                "dimension": "PQ",
                "score": None,
                "mass": None,
                "probs": [],
                "unseen": [],
                "texts": ['{"score": 7}'],
            },
        ],
        "versions": {"python": "3.11.7", "executable": "/p", "torch": None, "transformers": None},
    },
    remote.ErrorReply: {
        "version": remote.PROTOCOL,
        "kind": "error",
        "id": None,
        "error": "Traceback ...",
    },
    remote.CloseRequest: {"version": remote.PROTOCOL, "kind": "close"},
}


def test_a_request_of_another_protocol_version_is_refused_by_name():
    class Backend:
        def logit(self, items):
            raise AssertionError("a request of another version must not be scored")

    request = {**SAMPLES[remote.ScoreRequest], "version": remote.PROTOCOL + 1}
    reply = remote.handle(Backend(), request)
    assert reply["kind"] == "error" and reply["id"] == "ab12"
    assert f"this judge speaks {remote.PROTOCOL}" in reply["error"]


def test_statuses_cross_the_wire_as_plain_strings():
    """A Status is a str subclass, which execnet refuses: results carry its value."""
    from editbench.judging.scoring import JudgeFailure, result
    from editbench.vocabulary import Status

    with pytest.raises(execnet.DataFormatError):
        execnet.dumps({"status": Status.OK})
    shaped = result(None, Status.TIMEOUT, reasoning="late")
    assert type(shaped["status"]) is str and shaped["status"] == "timeout"
    assert type(JudgeFailure(Status.JUDGE_ERROR, "x").status) is str
    assert execnet.loads(execnet.dumps(shaped)) == shaped


@pytest.mark.parametrize("shape", remote.SHAPES, ids=lambda s: s.__name__)
def test_shape_round_trips(shape):
    sample = SAMPLES[shape]
    assert set(sample) == set(typing.get_type_hints(shape))
    nested = {"options": remote.BackendOptions, "results": remote.ItemResult}
    for key, inner in nested.items():
        for value in sample.get(key, []) if key == "results" else [sample.get(key)]:
            if value is not None:
                assert set(value) == set(typing.get_type_hints(inner)), key
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

    request = dict(SAMPLES[remote.ScoreRequest])
    reply = remote.handle(Backend(), request)
    assert set(reply) == set(typing.get_type_hints(remote.ScoreReply))
    assert set(reply["results"][0]) == set(typing.get_type_hints(remote.ItemResult))
    assert execnet.loads(execnet.dumps(reply)) == reply
    error = remote.handle(Backend(), {**request, "method": "generate"})
    assert set(error) == set(typing.get_type_hints(remote.ErrorReply))
    assert error["id"] == "ab12" and "RuntimeError: boom" in error["error"]
