"""Shared test set-up: hypothesis profiles and seed, backend fixtures, skips that fail in CI.

Hypothesis profiles: `ci` (the default when the CI variable is set) keeps the suite inside its
time budget, 30 examples a test; `dev` (the default elsewhere) draws 100; `thorough` 1000;
HYPOTHESIS_PROFILE picks one by name. No profile is derandomized: every run draws new examples
from one seed, printed in the session header; replay a run with HYPOTHESIS_SEED=N (or pytest
--hypothesis-seed=N). The example database is off in `ci`, so the seed alone reproduces a run.

Under CI=true a skipped test fails, unless its reason is one CI cannot provide (CI_MAY_SKIP):
CI installs every extra the tests use ([test,mpi]), so a missing one is a broken install."""
import os
import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

import tinynn as tn  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")

# Skip reasons CI genuinely cannot provide (regular expressions, matched against the reason):
# hardware or an operating system the CI machine does not have. Anything else skipped under CI
# is a failure. Add an entry only with the reason it cannot be installed.
CI_MAY_SKIP = (
    r"\bAVX-?512|\bAMX\b|\bNEON\b",     # a CPU feature the machine lacks (CI: x86-64, AVX2, no AMX)
    r"^SIGKILL$",                       # POSIX signals on Windows (CI runs Linux)
)


_SEED = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """One seed for every hypothesis test of the session: --hypothesis-seed, else HYPOTHESIS_SEED,
    else a fresh random one (hypothesis' own plugin, configured after this, applies it)."""
    if config.getoption("hypothesis_seed", None) is None:
        seed = os.environ.get("HYPOTHESIS_SEED") or str(random.SystemRandom().randrange(2**32))
        config.option.hypothesis_seed = seed
    config.stash[_SEED] = str(config.getoption("hypothesis_seed"))


def pytest_report_header(config):
    seed = config.stash.get(_SEED, "?")
    return (f"tinynn: hypothesis seed {seed} (replay: HYPOTHESIS_SEED={seed} pytest ... "
            f"or --hypothesis-seed={seed}); CI={'yes: skips fail' if IN_CI else 'no'}")


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_skip_in_ci(report):
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if any(re.search(pattern, reason) for pattern in CI_MAY_SKIP):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under CI: {reason}\n  CI installs every extra the tests need; if CI truly "
                       "cannot provide this, add the reason to CI_MAY_SKIP in tests/conftest.py")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


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
