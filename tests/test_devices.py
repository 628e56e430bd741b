"""The pure functions that decide which GPUs each worker and judge may see."""

from __future__ import annotations

import pytest

from editbench.devices import gpu_groups, judge_devices, parse_gpu_list, visible_gpus, worker_specs
from editbench.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", []),
        ("0,1,2", ["0", "1", "2"]),
        (" 3 , 1 ", ["3", "1"]),
        ("none", []),
        ("cpu", []),
        ("-1", []),
        ("GPU-abc,MIG-def", ["GPU-abc", "MIG-def"]),
    ],
)
def test_parse_gpu_list(text, expected):
    assert parse_gpu_list(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"), [("0,x", "'x' is not a GPU index"), ("1,1", "listed twice")]
)
def test_parse_gpu_list_rejects_bad_lists(text, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        parse_gpu_list(text)
    assert "--eb-gpus" in str(info.value)


def test_visible_gpus_follows_cuda_visible_devices():
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,5"}) == ["2", "5"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_visible_gpus_without_nvidia_smi_is_empty(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert visible_gpus({}) == []


@pytest.mark.parametrize(
    ("gpus", "per_worker", "groups"),
    [
        (["0", "1", "2", "3", "4", "5"], 1, [["0"], ["1"], ["2"], ["3"], ["4"], ["5"]]),
        (["0", "1", "2", "3", "4", "5"], 2, [["0", "1"], ["2", "3"], ["4", "5"]]),
        (["7", "3"], 2, [["7", "3"]]),
        ([], 2, []),
    ],
)
def test_gpu_groups(gpus, per_worker, groups):
    assert gpu_groups(gpus, per_worker) == groups


def test_gpu_groups_rejects_remainder_and_zero():
    with pytest.raises(ConfigError, match="does not divide the 3 GPUs"):
        gpu_groups(["0", "1", "2"], 2)
    with pytest.raises(ConfigError, match="at least 1"):
        gpu_groups(["0"], 0)


def test_worker_specs_pin_each_worker_before_cuda_starts():
    groups = [["0", "1"], ["2", "3"]]
    assert worker_specs(2, groups) == [
        "popen//env:EDITBENCH_SLOT=0//env:CUDA_VISIBLE_DEVICES=0,1",
        "popen//env:EDITBENCH_SLOT=1//env:CUDA_VISIBLE_DEVICES=2,3",
    ]
    # more workers than groups: round robin, never an unpinned worker
    assert worker_specs(3, groups)[2] == "popen//env:EDITBENCH_SLOT=2//env:CUDA_VISIBLE_DEVICES=0,1"
    assert worker_specs(2, []) == ["popen//env:EDITBENCH_SLOT=0", "popen//env:EDITBENCH_SLOT=1"]


def test_specs_parse_into_the_worker_environment():
    """execnet reads both variables out of one spec, as xdist hands it over."""
    import execnet

    spec = execnet.XSpec(worker_specs(2, [["4", "5"]])[1])
    assert spec.popen and spec.env == {"EDITBENCH_SLOT": "1", "CUDA_VISIBLE_DEVICES": "4,5"}


def test_worker_specs_are_a_function_of_the_slot_only():
    """A replacement worker gets the same spec as the one it replaces: same GPUs."""
    groups = gpu_groups(["0", "1", "2", "3"], 1)
    first, again = worker_specs(4, groups), worker_specs(4, groups)
    assert first == again and len(set(first)) == 4


def test_judge_devices():
    assert judge_devices(["3"], None, 0) == ["3"]
    assert judge_devices(["3"], [], 1) == ["3"]
    assert judge_devices(["0"], ["6", "7"], 0) == ["6"]
    assert judge_devices(["1"], ["6", "7"], 3) == ["7"]
