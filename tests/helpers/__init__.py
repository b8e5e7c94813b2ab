"""Modules the tests share: the fuzzing harness, exact rational expectations (exact) and the MPI worker script."""
