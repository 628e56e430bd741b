"""The rootdir trap's checks as plain functions: which invocations lost the checkout's ini."""

from __future__ import annotations

from pathlib import Path

from editbench.invocation import lost_ini, options_without_config, spaced_path_values


def checkout(tmp_path: Path) -> Path:
    folder = tmp_path / "checkout"
    (folder / "tests").mkdir(parents=True)
    (folder / "pytest.ini").write_text("[pytest]\neb_config = benchmarks/default.yaml\n")
    (folder / "tests" / "pytest.ini").write_text("[pytest]\n")
    return folder


def test_a_spaced_value_naming_an_outside_folder_is_the_suspect(tmp_path):
    folder, outside = checkout(tmp_path), tmp_path / "old-run"
    outside.mkdir()
    args = ["-n", "2", "--eb-run-dir", str(outside), "--eb-set", "editor.steps=4", "-k", "tests"]
    assert spaced_path_values(args, folder) == [("--eb-run-dir", str(outside))]
    assert spaced_path_values([f"--eb-run-dir={outside}"], folder) == []


def test_lost_ini_names_the_option_and_both_fixes(tmp_path):
    folder, outside = checkout(tmp_path), tmp_path / "old-run"
    outside.mkdir()
    message = lost_ini(folder, None, outside, ["--eb-run-dir", str(outside)], explicit_ini=False)
    assert f"did not read {folder / 'pytest.ini'}" in message and "read no ini file" in message
    assert f"write --eb-run-dir={outside} (with '=')" in message and "-c pytest.ini" in message


def test_an_ini_inside_the_checkout_or_an_explicit_one_is_no_trap(tmp_path):
    folder = checkout(tmp_path)
    inner = folder / "tests" / "pytest.ini"
    assert lost_ini(folder, inner, folder / "tests", ["tests/unit"], explicit_ini=False) is None
    assert lost_ini(folder, folder / "pytest.ini", folder, [], explicit_ini=False) is None
    assert lost_ini(folder, None, tmp_path, ["/x"], explicit_ini=True) is None
    assert lost_ini(tmp_path, None, tmp_path, ["/x"], explicit_ini=False) is None  # no eb_config


def test_editbench_options_need_a_run_config(tmp_path):
    message = options_without_config(
        ["--eb-run-dir", "/x", "--eb-shard=1/2"], False, None, tmp_path
    )
    assert message.startswith("editbench: --eb-run-dir, --eb-shard given, but pytest found no run")
    assert options_without_config(["--eb-run-dir=/x"], True, None, tmp_path) is None
    assert options_without_config(["-k", "物理"], False, None, tmp_path) is None


def test_a_mistyped_eb_option_gets_the_closest_one_and_others_are_left_to_pytest():
    from editbench.invocation import unknown_options

    known = ["--eb-config", "--eb-set", "--eb-run-dir", "-k", "--lf"]
    assert "did you mean --eb-config?" in unknown_options(["--eb-confg=x.yaml"], known)
    assert "did you mean --eb-run-dir?" in unknown_options(["-k", "x", "--eb-rundir", "d"], known)
    assert unknown_options(["--eb-config=x.yaml", "--whatever"], known) is None
    assert unknown_options(["--eb-confg=x"], ["-k"]) is None  # ours not registered: no verdict
