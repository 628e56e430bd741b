"""A pytest plugin for scripts/measure_gedit_memory.py: each process's peak memory, written on exit.

Loaded with `-p rss_probe` (this folder on PYTHONPATH) in the controller and, through xdist, in
every worker. A thread samples /proc/self/status every 20 ms from the moment the plugin is
imported (before the editbench plugin loads the suite), keeping the peaks of RssAnon (memory the
process owns: Python objects, decoded images, copies) and RssFile (file pages mapped into it,
such as the memory-mapped Arrow data set: shared, clean and dropped by the kernel under pressure);
VmHWM is the kernel's own peak of their sum. Linux only.
"""

from __future__ import annotations

import json
import os
import threading
import time

FIELDS = ("VmHWM", "RssAnon", "RssFile", "VmRSS")
_peaks = {name: 0 for name in FIELDS}
_stop = threading.Event()


def _status() -> dict[str, int]:
    values = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                values[name] = int(rest.split()[0])  # kB
    return values


def _sample() -> None:
    while not _stop.is_set():
        for name, value in _status().items():
            _peaks[name] = max(_peaks[name], value)
        time.sleep(0.02)


threading.Thread(target=_sample, daemon=True, name="rss-probe").start()


def pytest_unconfigure(config) -> None:
    _stop.set()
    final = _status()
    for name, value in final.items():
        _peaks[name] = max(_peaks[name], value)
    who = getattr(config, "workerinput", {}).get("workerid", "controller")
    record = {"process": who, "peak_kb": dict(_peaks), "final_kb": final}
    with open(os.environ["EB_RSS_OUT"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
