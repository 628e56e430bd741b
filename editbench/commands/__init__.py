"""The `editbench` subcommands, one module per command (`make-tiny` is `make_tiny.py`).

Each module holds its command's argument parsing, what it prints and its exit status, and
`main(argv) -> int`; the work it asks for lives in library modules, which other parts of the
package and the tests call directly. `editbench/cli.py` dispatches to these modules by name.
"""
