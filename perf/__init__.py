"""The harness's own benchmarks: what editbench itself costs, measured as ratios within one run.

Not part of the installed package: these files live in the repository beside `benchmarks/` and
`fixtures/`, which they use. Run them from a checkout with `python -m perf` (or `editbench perf`,
which finds the checkout and runs that). One file per measurement: `overhead`, `transport`,
`scaling`, `cache`, `method`, `overlap`, `startup`, and `realsize` (the GPU mode); `runner`
parses options and writes perf.json; `bench`, `suite`, `clock`, `judgecalls`, `judgeside` and
`report` are what they share.
"""
