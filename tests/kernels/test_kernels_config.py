"""kernels.info(), kernels.set_simd and the thread-count plumbing."""
import os
import subprocess
import sys

import pytest

import tinynn as tn

kernels = pytest.importorskip("tinynn.kernels")


def test_info_keys_and_types():
    info = kernels.info()
    assert info["simd"] in ("avx2+fma", "portable")
    assert info["simd_available"] in ("avx2+fma", "portable")
    assert isinstance(info["openmp"], bool)
    assert isinstance(info["threads"], int) and info["threads"] >= 1


def test_set_simd_round_trip():
    best = kernels.info()["simd_available"]
    previous = kernels.set_simd("portable")
    try:
        assert kernels.info()["simd"] == "portable"
        assert kernels.get_simd() == "portable"
    finally:
        kernels.set_simd(previous)
    kernels.set_simd("auto")
    assert kernels.info()["simd"] == best


def test_set_simd_rejects_unknown_level():
    with pytest.raises(ValueError, match="set_simd"):
        kernels.set_simd("sse9")


def test_set_num_threads_reaches_kernels():
    before = tn.get_num_threads()
    try:
        tn.set_num_threads(1)
        assert kernels.info()["threads"] == 1 and tn.get_num_threads() == 1
        tn.set_num_threads(3)
        assert kernels.info()["threads"] == 3
    finally:
        tn.set_num_threads(before)
    assert kernels.info()["threads"] == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        tn.set_num_threads(bad)


def test_wait_policy_set_at_import_unless_user_chose():
    code = "import os, tinynn; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "20000"]   # a short spin, then sleep
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ACTIVE", "None"]
