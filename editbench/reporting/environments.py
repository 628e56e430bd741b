"""Whether two runs' interpreters differ in what moves a score.

run.json `versions` holds, for the worker (the editor's interpreter) and for the judge's
interpreter, the installed versions of the score-moving packages (`runmeta.SCORE_PACKAGES`)
and the lock each interpreter was installed from (`lock`: its path and sha256, from the stamp
tox writes; None outside a locked environment). `editbench compare` and `merge` report every
difference as a warning line and a JSON field; they never refuse on it: a newer transformers is
a fact about the scores, not an error.
"""

from __future__ import annotations

from typing import Any

from editbench.reporting.runmeta import SCORE_PACKAGES

# run.json `versions` key -> the name a reader knows the interpreter by
SIDES = {"worker": "editor", "judge": "judge"}


def environment_differences(meta_a: dict[str, Any], meta_b: dict[str, Any]) -> list[dict]:
    """One entry per package (or lock) whose version differs between the two runs, per side.

    A side that one run did not record (an older run.json, a run that never reached a worker)
    is not compared: there is nothing to set against it.
    """
    found = []
    for key, side in SIDES.items():
        a = (meta_a.get("versions") or {}).get(key)
        b = (meta_b.get("versions") or {}).get(key)
        if not isinstance(a, dict) or not isinstance(b, dict):
            continue
        for package in SCORE_PACKAGES:
            if package in a and package in b and a[package] != b[package]:
                found.append({"side": side, "package": package, "a": a[package], "b": b[package]})
        lock_a, lock_b = _lock_digest(a), _lock_digest(b)
        if lock_a != lock_b:
            found.append({"side": side, "package": "lock", "a": lock_a, "b": lock_b})
    return found


def _lock_digest(versions: dict[str, Any]) -> str | None:
    lock = versions.get("lock")
    if not isinstance(lock, dict):
        return None
    return f"{lock.get('lock')}@{str(lock.get('sha256'))[:12]}"


def warning_lines(differences: list[dict], names: tuple[str, str] = ("A", "B")) -> list[str]:
    """One warning line per side whose environments differ, naming each package's two versions."""
    lines = []
    for side in SIDES.values():
        parts = [
            f"{d['package']} {d['a'] or 'none'} ({names[0]}) vs {d['b'] or 'none'} ({names[1]})"
            for d in differences
            if d["side"] == side
        ]
        if parts:
            lines.append(
                f"warning: the {side} environments differ: {'; '.join(parts)}; "
                "scores may move with these packages"
            )
    return lines
