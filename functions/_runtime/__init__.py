"""Code every platform function shares, copied into each function's asset next to its package (see
constructs_lib/platform_function.py): imported as `functions._runtime` both in Lambda and in the tests."""
