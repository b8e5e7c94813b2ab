"""kernels.info(), kernels.set_simd and the thread-count plumbing."""
import os
import subprocess
import sys

import pytest

import tinynn as tn

kernels = pytest.importorskip("tinynn.kernels")


FAMILIES = ("gemm", "elementwise", "softmax", "optim", "int8")


def test_info_keys_and_types():
    info = kernels.info()
    assert info["simd"] in ("avx512", "avx2", "portable")
    assert info["simd_available"] == kernels.simd_paths()[-1]
    assert kernels.simd_paths()[0] == "portable"
    assert set(info["paths"]) == set(FAMILIES)
    assert isinstance(info["openmp"], bool)
    assert isinstance(info["threads"], int) and info["threads"] >= 1


@pytest.mark.parametrize("level", ["portable", "avx2", "avx512"])
def test_family_paths_follow_set_simd(level):
    """Each family reports the forced path; int8 takes its best usable path (VNNI, AMX) at the CPU's
    best level and is capped at the forced level below it; a level the CPU lacks is refused."""
    if level not in kernels.simd_paths():
        with pytest.raises(ValueError, match="set_simd.*cannot run"):
            kernels.set_simd(level)
        return
    previous = kernels.set_simd(level)
    try:
        paths = kernels.info()["paths"]
        assert {paths[f] for f in FAMILIES if f != "int8"} == {level}
        best = level == kernels.simd_paths()[-1]
        assert paths["int8"] == (kernels.int8_paths()[-1] if best else level)
    finally:
        kernels.set_simd(previous)


def test_avx2_fma_alias():
    if "avx2" not in kernels.simd_paths():
        pytest.skip("this CPU has no AVX2+FMA")
    previous = kernels.set_simd("avx2+fma")
    try:
        assert kernels.get_simd() == "avx2"
    finally:
        kernels.set_simd(previous)


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


ENVIRON_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None)

def c_environ():
    # the C library's environment (what setenv/putenv change, from Python or from C)
    env, out = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ"), set()
    i = 0
    while env[i] is not None:
        out.add(env[i])
        i += 1
    return out

before, c_before = dict(os.environ), c_environ()
import numpy as np
import tinynn as tn
import tinynn.nn as nn
tn.set_num_threads(2)
x = tn.tensor(np.ones((256, 256), dtype=np.float32))
model = nn.Sequential(nn.Linear(256, 256), nn.Sigmoid())
model(x).sum().backward()                  # kernels (if built) with their OpenMP regions
print(tn.get_backend(), "tinynn.kernels" in sys.modules)
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
assert c_environ() == c_before, c_environ() ^ c_before
"""


@pytest.mark.parametrize("preset", [{}, {"OMP_WAIT_POLICY": "ACTIVE"}])
def test_import_and_kernels_leave_the_environment_unchanged(preset, tmp_path):
    """import tinynn, building a model and running forward and backward on the compiled
    kernels (2 threads) change neither os.environ nor the C library's environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(preset)
    env.pop("TINYNN_BACKEND", None)
    # cwd outside any checkout: `python -c` puts the cwd first on sys.path, and a checkout's unbuilt
    # tinynn/ would shadow the installed one
    out = subprocess.run([sys.executable, "-c", ENVIRON_PROBE], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cython", "True"]   # the kernels really ran
