"""Build the compiled kernel core `tinynn.kernels` from the Cython sources in `kernels/`
(kernels/kernels.pyx, which includes every family's .pxi and .h from its folder).

Environment switches:
  TINYNN_DEBUG_KERNELS=1  turn Cython bounds/wraparound/initialized checks back on, -O0 -g, and
                          UndefinedBehaviorSanitizer (misaligned pointers, overflow, bad shifts,
                          out-of-bounds fixed arrays) that aborts on the first report;
                          kernels.info()["debug"] is then True,
  TINYNN_NO_OPENMP=1      build without OpenMP.
"""
import glob
import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("TINYNN_DEBUG_KERNELS", "") not in ("", "0")
openmp = os.environ.get("TINYNN_NO_OPENMP", "") in ("", "0")

compile_args = ["-O0", "-g", "-fsanitize=undefined", "-fno-sanitize-recover=all"] if debug else ["-O3"]
# FP operations never trap (we do not use FP exceptions): lets GCC if-convert and
# vectorise loops with selects (x > 0 ? a : b) while keeping IEEE NaN/inf semantics.
compile_args += ["-fno-trapping-math", "-fno-math-errno"]  # sqrt -> one vector instruction
link_args = ["-fsanitize=undefined"] if debug else []
if openmp and sys.platform != "darwin":
    compile_args.append("-fopenmp")
    link_args.append("-fopenmp")
else:
    compile_args.append("-fopenmp-simd")  # still honour `#pragma omp simd` (vector reductions)

directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": debug,
    "initializedcheck": debug,
    "cdivision": True,
    "nonecheck": False,
}

extension = Extension(
    "tinynn.kernels",
    sources=["kernels/kernels.pyx"],
    depends=sorted(glob.glob("kernels/**/*.h", recursive=True) + glob.glob("kernels/**/*.pxi", recursive=True)),
    include_dirs=[np.get_include(), "kernels"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    + ([("TN_DEBUG", "1")] if debug else []),
)

setup(ext_modules=cythonize([extension], compiler_directives=directives))
