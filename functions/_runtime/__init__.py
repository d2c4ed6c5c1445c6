"""Code every platform function shares, copied into each function's asset next to its package (see
constructs_lib/shared/platform_function.py): imported as `functions._runtime` both in Lambda and in the tests.
`logs`: one log line per event; `entry`: the entry point of the event-driven functions."""
