"""Shared test set-up: hypothesis profiles and backend fixtures.

The `ci` profile (the default when the CI variable is set) keeps the suite inside its time
budget; `dev` (the default elsewhere) draws more examples; HYPOTHESIS_PROFILE picks one by name."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

import tinynn as tn  # noqa: E402


@pytest.fixture(params=tn.backend.available())
def backend_name(request):
    """Run a test once per available backend."""
    with tn.use_backend(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _seeded():
    tn.manual_seed(0)
    np.random.seed(0)
    yield


def pytest_terminal_summary(terminalreporter):
    """After a run that included the fuzz tests: how many generated cases they ran."""
    import sys

    fuzzing = sys.modules.get("helpers.fuzzing")
    if fuzzing is not None and fuzzing.COUNTS:
        total = sum(fuzzing.COUNTS.values())
        terminalreporter.write_line(f"fuzz: {total} generated cases over {len(fuzzing.COUNTS)} kernels/ops "
                                    "(TINYNN_FUZZ_CASES=N for N per test)")
