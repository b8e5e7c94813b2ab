"""Modules the tests share: the fuzzing harness and the MPI worker script."""
