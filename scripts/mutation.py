"""Mutation testing of tinynn's core modules with mutmut (the `[mutation]` extra).

    python scripts/mutation.py                  # every module below, report to docs/mutation-report.md
    python scripts/mutation.py optim prune      # only these modules
    python scripts/mutation.py --jobs 2 --report -   # report to stdout
    python scripts/mutation.py --keep ops       # re-run ops; report it with the others' last results
    python scripts/mutation.py --retest --keep optim   # after adding tests: re-test only optim's open survivors
    python scripts/mutation.py --resume --keep ops     # go on with a run that was stopped
    python scripts/mutation.py --reread --keep ops     # report again from the last results (the scratch copy's,
                                                       # or build/mutation/ops.json's when there is no copy)

For each module, a scratch copy of tinynn/ (with its built kernels) and tests/ is made under
build/mutation/<module>/, mutmut mutates only that module's files and runs, for each mutant, the
tests of the module's selection that call the mutated function (mutmut traces that once). The
selection keeps a run affordable on 2 cores: the fuzz tests and the integration tests stay out.

The score of a module is killed / all mutants: a mutant that survives, times out or that no
selected test reaches counts against it. Every survivor is listed in the report with its diff and
either the test that should kill it or the reason (from REASONS below) it is equivalent: a mutant
that changes nothing a caller can observe. A survivor without a reason is marked "open".
Mutant names (function and number) shift when the code changes; re-run and re-read the report.
"""
import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reference_backend():
    """The readable NumPy backend: numpy_ref.py, or reference.py after the rename."""
    for name in ("reference.py", "numpy_ref.py"):
        if (ROOT / "tinynn" / "backend" / name).exists():
            return f"tinynn/backend/{name}"
    raise SystemExit("no reference backend found in tinynn/backend/")


def tests_that_exist(*patterns):
    """The test files matching the patterns (globs relative to the repo), in a stable order."""
    found = []
    for pattern in patterns:
        found += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    return found


KERNEL_TESTS = ("tests/kernels/test_kernels_elementwise.py", "tests/kernels/test_kernels_softmax.py",
                "tests/kernels/test_kernels_gemm.py", "tests/kernels/test_kernels_optim.py")


# tests that run the reference's conv/pool/batch-norm/pad and attention/recurrent kernels (most on
# both backends, through the backend_name fixture), and the backend table's and gradgradcheck's
# calls of every kernel
REFERENCE_SHARED_TESTS = ("tests/unit/test_backend_table.py", "tests/unit/test_gradgradcheck.py")
REFERENCE_CONV_TESTS = ("tests/unit/test_conv.py", "tests/unit/test_pooling.py", "tests/unit/test_batchnorm.py",
                        "tests/kernels/test_conv_kernels.py", *REFERENCE_SHARED_TESTS)
REFERENCE_SEQUENCE_TESTS = ("tests/unit/test_attention.py", "tests/unit/test_embedding.py", "tests/unit/test_gelu.py",
                            "tests/unit/test_layernorm.py", "tests/unit/test_recurrent.py",
                            "tests/unit/test_transformer.py", "tests/unit/test_gpt.py",
                            "tests/unit/test_gradgradcheck_sequence.py", "tests/kernels/test_kernels_attention.py",
                            *REFERENCE_SHARED_TESTS)


def modules():
    """name -> (files to mutate, test files that exercise them)."""
    mutants = "tests/unit/test_mutants_{}.py".format
    return {
        # every unit test file of an op family (the layers' ops, higher-order autograd) but the slow
        # model-level ones (test_gpt, test_models, ...) and the fuzz/integration tests
        "ops": (["tinynn/ops/*.py"], tests_that_exist("tests/unit/test_ops*.py", "tests/unit/test_tensor*.py",
                                                     "tests/unit/test_losses*.py", "tests/unit/test_nn.py",
                                                     "tests/unit/test_quantize.py", "tests/unit/test_activations.py",
                                                     "tests/unit/test_gelu.py", "tests/unit/test_attention.py",
                                                     "tests/unit/test_conv.py", "tests/unit/test_pooling.py",
                                                     "tests/unit/test_batchnorm.py", "tests/unit/test_layernorm.py",
                                                     "tests/unit/test_embedding.py", "tests/unit/test_recurrent.py",
                                                     "tests/unit/test_sequences.py", "tests/unit/test_transformer.py",
                                                     "tests/unit/test_gradgradcheck*.py",
                                                     "tests/unit/test_higher_order.py",
                                                     "tests/unit/test_autograd_functional.py",
                                                     "tests/unit/test_custom_function.py", mutants("ops"),
                                                     "tests/unit/test_mutants_ops_*.py")),
        "reference": ([reference_backend(), "tinynn/backend/reference_qconv.py"],
                      tests_that_exist("tests/unit/test_ops.py", "tests/unit/test_losses.py",
                                                              "tests/unit/test_nn.py", "tests/unit/test_quantize.py",
                                                              "tests/unit/test_ops_elementwise.py",
                                                              "tests/unit/test_ops_pytorch_semantics.py",
                                                              "tests/unit/test_ops_reductions.py", "tests/unit/test_ops_shape.py",
                                                              "tests/kernels/test_fused_activation.py",
                                                              "tests/kernels/test_int8_paths.py",
                                                              "tests/kernels/test_int8_conv.py",
                                                              "tests/unit/test_quantize_conv.py",
                                                              "tests/unit/test_activations.py", *REFERENCE_SHARED_TESTS,
                                                              *KERNEL_TESTS, mutants("ops"), mutants("ops_factories"),
                                                              mutants("quantize"), mutants("reference"))),
        # the reference backend's convolution and sequence families, each its own run (and row)
        "reference-conv": (["tinynn/backend/reference_conv.py"],
                           tests_that_exist(*REFERENCE_CONV_TESTS, mutants("reference_conv"))),
        "reference-sequence": (["tinynn/backend/reference_attention.py", "tinynn/backend/reference_recurrent.py"],
                               tests_that_exist(*REFERENCE_SEQUENCE_TESTS, mutants("reference_sequence"))),
        "prune": (["tinynn/compress/prune.py"], tests_that_exist("tests/unit/test_prune.py", "tests/unit/test_prune_conv.py",
                                                                 mutants("prune"))),
        "quantize": (["tinynn/compress/quantize.py", "tinynn/compress/qparams.py", "tinynn/compress/qlinear.py"],
                     tests_that_exist("tests/unit/test_quantize.py", "tests/unit/test_quantize_ties.py",
                                      "tests/unit/test_quantize_conv.py", mutants("quantize"))),
        "optim": (["tinynn/optim/*.py"], tests_that_exist("tests/unit/test_optim*.py", "tests/unit/test_schedulers.py",
                                                         "tests/kernels/test_kernels_optim.py", mutants("optim"),
                                                         mutants("optim_schedulers"))),
    }


# Survivors that are equivalent (no caller can tell the mutant from the original), as
# (glob on the mutant's short name without its number, regular expression on its mutated line,
# reason). Matched on what the mutant changes, not on its number, which shifts with the code; a
# reviewer re-checks an entry when the code it names changes. Anything else surviving is "open".
REASONS = [
    ("optim.sgd: SGD._check_group", r"lr is required|LR IS REQUIRED|ValueError\(None\)$",
     "unreachable: Optimizer.add_param_group raises 'did not specify a value of required option' first"),
    ("optim.optimizer: Optimizer._writable", r'copy=None|order="c"|order="C", \)',
     "the array is not C-contiguous here, so np.array copies whatever copy= says; NumPy reads order 'c' as 'C'"),
    ("optim.optimizer: Optimizer._writable", r"_checked\[p\] = None|_checked\.get\(None\)",
     "the cache only saves re-reading .flags; without it every step re-checks and finds the same array"),
    ("optim.optimizer: Optimizer.load_state_dict", r"copy\.copy\(_plain",
     "group options are numbers, strings and tuples of numbers: a shallow copy is a deep one"),
    ("optim.lr_scheduler: LambdaLR.state_dict", r'not in \("optimizer", "(XXlr_lambdasXX|LR_LAMBDAS)"\)',
     "state['lr_lambdas'] is written again on the next line"),
    ("optim.lr_scheduler: SequentialLR.state_dict", r'not in \("optimizer", "(XX_schedulersXX|_SCHEDULERS)"\)',
     "state['_schedulers'] is written again on the next line"),
    ("optim.optimizer: Optimizer.state_dict", r'if k != "(XXparamsXX|PARAMS)"',
     "packed['params'] is written again (the indices) after the loop"),
    ("optim.lr_scheduler: SequentialLR.step", r"if i >= 0 and",
     "i = 0 means last_epoch < milestones[0] <= milestones[-1]: the added test is false"),
    ("optim.lr_scheduler: CosineAnnealingLR.get_lr", r"_step_count == 1 and t >= 0:$",
     "t = 0 returned on the line before"),
    ("optim.lr_scheduler: CosineAnnealingLR.get_lr", r"if \(t - 1 \+ T\) % \(2 \* T\) == 0:$",
     "t - 1 + T and t - 1 - T differ by 2 T: the same remainder mod 2 T"),
    ("optim.*: *.step", r'group\.get\("(maximize|amsgrad)", (None|True)?\)',
     "every group has these options: the optimizer's defaults fill them in, also when a loaded state dict "
     "lacks them"),
    ("optim.one_cycle: OneCycleLR.__init__", r"self\._set_momentum\(group, None\)$",
     "the initial step (step 0) sets every group's momentum again, to the anneal's start"),
    ("optim.*: *.step", r"grad = None$|type\(None\) is not np\.ndarray",
     "p.grad is always a Tensor or None now (its setter wraps arrays), so grad_array reads it for every "
     "parameter: the ndarray fast path this line feeds is dead (a cost, not a result)"),
    ("optim.sgd: SGD.step", r"if lists\[1\]:$",
     "params and grads are appended together: lists[0] and lists[1] have the same length"),
    ("optim.sgd: SGD.step", r"lists\[2\] if \(momentum\) or True else None",
     "with momentum 0 the buffers list holds only None, which sgd_step_multi reads as no buffers"),
    ("optim.optimizer: Optimizer.load_state_dict", r"astype\(p\.dtype, \)$",
     "astype copies by default (copy=True)"),
    ("compress.*", r"\(isinstance\((x|q|value|batch|args\[0\]), Tensor\)\) and False",
     "np.asarray of a Tensor is the Tensor's own array (Tensor.__array__): the same values either way"),
    ("compress.*", r"reshape\(-2|, -2\)|\] = -2$",
     "NumPy's reshape takes any negative size as the one inferred dimension"),
    ("compress.*", r"symmetric=None",
     "calc_qparams only tests `if symmetric`: None is false, as False is"),
    ("compress.qlinear: QuantizedLinear.forward", r"s_a, z_a = (2\.0, 0|1\.0, 1)$",
     "the parameters of an empty batch: no row is quantized with them"),
    ("compress.qlinear: QATLinear.forward", r"else \((2\.0, 0|1\.0, 1)\)$",
     "the parameters of an empty batch that comes before any other: no value is quantized with them"),
    ("compress.qlinear: QuantizedLinear.forward", r"self\.in_features\), (dtype=None)?\)",
     "a float64 batch: minmax's float64 ends round to the same float32 ends in calc_qparams, and "
     "quantized_linear rounds x to float32 before quantizing it (compiled: through the reference's fma_f32)"),
    ("compress.qlinear: QATLinear.forward", r"zero_point=z_a, qmin=0, \)$|scale=s_w\[:, None\], "
     r"(qmin=-128, qmax=127|zero_point=0, qmax=127|zero_point=0, qmin=-128, )\)$",
     "the argument removed equals FakeQuantize.forward's default (zero_point=0, qmin=-128, qmax=127)"),
    ("compress.qlinear: QATLinear.forward", r"qmin=-129, qmax=127\)$",
     "weights are symmetric with s_j = max_k |W_jk| / 127.5, so round(W_jk / s_j) >= round(-127.5) = -128: "
     "no weight reaches -129"),
    ("compress.qlinear: InputObserver.fake_quantize_input", r"zero_point=z_a, qmin=0, \)$",
     "the argument removed equals FakeQuantize.forward's default (qmax=127)"),
    ("compress.qlinear: quantized_input_params", r"return (2\.0, 0|1\.0, 1)$",
     "the parameters of an empty batch (a dynamic layer's only use of them): no value is quantized with them"),
    ("compress.qparams: calc_qparams", r"qmin, qmax = qmin / 2, qmax // 2",
     "reduce_range is asked for only for uint8 activations, whose qmin is 0: 0 / 2 is 0.0, and the zero "
     "point is clipped to [0.0, 127] and returned as an int either way"),
    ("compress.quantize: _replace", r"with_relu=None\)",
     "fuse_known_modules only tests `if with_relu`: None is false, as False is"),
    ("compress.qlinear: QuantizedLinear.from_float", r"_data, (None)?\)$",
     "a float64 layer: weight_qparams/calc_qparams and quantize_tensor round W to float32 before using it, "
     "and the constructor casts the bias to float32"),
    ("compress.qlinear: QuantizedLinear.from_float", r'quantize_tensor\(w, s_w, 0, (axis=0|"int8", )\)$',
     "the argument removed equals quantize_tensor's default (dtype='int8', axis=0)"),
    ("compress.qlinear: QuantizedLinear.from_state_dict", r"reshape\(\+1\)",
     "every one of these entries holds one value, and reshape(1) of one value is reshape(-1)"),
    ("compress.qparams: weight_qparams", r'w\.max\(axis=1\), (symmetric=True|"int8", )\)$',
     "the argument removed equals calc_qparams' default (dtype='int8', symmetric=True)"),
    ("compress.qparams: calc_qparams", r"found = (None|_scalar_qparams\((None, max_val|min_val, None|"
     r"min_val, max_val, qmin, qmax, None))",
     "the scalar shortcut returns the array path's bits or None (then the array path runs): "
     "test_calc_qparams_scalar_path_matches_array_path; with dtype None it takes the (qmin + qmax + 1) // 2 "
     "branch, which is 0 for int8"),
    ("compress.qparams: _scalar_qparams", r"np\.float32\(None\)|lo < hi\)",
     "None (NaN) or lo == hi send the range to the array path, which returns the same bits"),
    ("compress.qparams: *qparams", r'0 if (\(dtype == "int8"\) and False|dtype == "(XXint8XX|INT8)") else|'
     r"\(qmin \+ qmax \+ (1\) / 2|2\) // 2)",
     "(qmin + qmax + 1) // 2 is 0 for int8 ([-128, 127] and [-64, 63]) and qmin + qmax + 1 is even in "
     "every range, so / 2 and (+ 2) // 2 give the same integer"),
    ("compress.qparams: calc_qparams", r"\) // 2, (dtype=None)?\)$",
     "np.full of a Python int is int64 already"),
    ("compress.qparams: calc_qparams", r"np\.clip\(qmin - np\.rint\(lo / scale\)\.astype\(np\.int64\), None, qmax\)",
     "m- <= 0, so round(m- / s) <= 0 and qmin - round(m- / s) >= qmin: the lower clamp never bites"),
    ("compress.qparams: *quantize_tensor", r"_channel\(zero_point, \w+, axis, None\)",
     "zero points are integers: q - z (int64 minus any integer type) and fma_f32's float64 z are exact either way"),
    ("compress.qparams: dequantize_tensor", r"\(q\.astype\(None\) - z\)|\(q\.astype\(np\.int64\) - z\)\.astype\(None\)",
     "q - z is an integer below 2^9: exact in float64, and the float32 scale times it rounded once to float32 "
     "equals the float32 product"),
    ("compress.qlinear: QATLinear.from_float", r"isinstance\((w|b), Parameter\)\) or True else",
     "QATLinear.__init__ makes a Parameter of a copy of a plain Tensor itself (the same values, not shared)"),
    ("compress.quantize: load_quantized", r'from_state_dict\(state_dict, \)$',
     "the argument removed equals from_state_dict's default (prefix='')"),
    ("compress.qparams: quantize_tensor", r"else x, (dtype=None)?\)$",
     "x in its own dtype: fma_f32 rounds it to float32 itself, and the scale is float32 whatever x's dtype"),
    ("compress.quantize: _replace", r'op="(XXquantizeXX|QUANTIZE)"',
     "every caller passes op="),
    *[(f"compress.quantize: {f}", r"if found\[0\]\[2\] is None",
       "_linears gives a parent and a child name together, or neither (the model is the layer)")
      for f in ("_replace", "prepare_qat")],
    ("compress.quantize: observe", r'_batches\(calibration_batches, (None|"XXquantize_staticXX"|"QUANTIZE_STATIC")\)',
     "_batches does not use its op argument"),
    ("compress.quantize: observe", r"n (= 1|-= 1|\+= 2)$",
     "n is only compared with 0"),
    ("compress.quantize: quantize_static", r'op=(None|"XXquantize_staticXX"|"QUANTIZE_STATIC")\)$|^\)$',
     "observe refuses a model without a Linear first, with its own message: _replace's is unreachable here"),
    ("compress.prune: _hooks", r'get\("_forward_pre_hooks", (None)?\)',
     "Module.__init__ creates _forward_pre_hooks on every module: the default is never used"),
    ("compress.prune: _refresh", r"hook\(layer, None\)", "_ApplyMask ignores the forward's arguments"),
    ("compress.prune: _scores", r"np\.ones\(w\.(shape\[0\]|size), (None)?\)",
     "alive is only read by flatnonzero and sum: float ones give the same indices and count as True"),
    ("compress.prune: _scores", r"\.astype\(None\)$", "astype(None) is astype(float64)"),
    ("compress.prune: _smallest", r"if k < 0:$", "k = 0 then selects idx[argsort(...)[:0]], the same empty index"),
    ("compress.prune: _smallest", r'kind="STABLE"', "NumPy reads a sort kind by its first letter, in any case"),
    ("compress.prune: _apply", r'for name in \("bias", "weight"\) if \(m is norm\) or True else',
     "for the layer itself this also zeroes rows `units` of its weight mask, the mask zeroed there two lines "
     "above (_attach returns the one already attached)"),
    ("compress.prune: magnitude", r"norms = .* if \(structured\) or True else \{\}",
     "the norms are read only by _apply's structured branch: unstructured pruning never looks at them"),
    ("compress.prune: report", r"if \(w\[0\]\.size\) or True",
     "a layer without inputs has only empty rows, and ~any() of an empty row is True: the sum is w.shape[0], "
     "what the else branch gives"),
    ("compress.prune: load_state_dict", r"load_state_dict\(state_dict, \)$",
     "the argument removed equals Module.load_state_dict's default (strict=True)"),
    ("compress.prune: report", r"if \(w\.shape\[1\]\) or True else",
     "a row of no weights has no nonzero weight either: the first branch counts it as the else does"),
    ("compress.prune: *shrink*", r"b \+ extra\.astype\(None\)$",
     "b and extra are float32: their float64 sum rounded to float32 is their float32 sum (53 >= 2 * 24 + 2 "
     "bits: double rounding of a sum is innocuous)"),
    ("compress.prune: *shrink*", r"np\.zeros\(w\.shape\[0\], (None)?\) if b is None",
     "a bias-less layer's zero bias in float64: act(0) is exact in either dtype and the folded W'[:, dropped] c "
     "differs only in the rounding of its sum, which the float model's own GEMM rounds in its own order"),
    ("compress.prune: *shrink*", r"copy\.copy\(m\)\.eval\(\)",
     "the modules between are elementwise leaves: eval() on a shallow copy sets only the copy's own flag"),
    ("ops.*.forward", r"^def forward\(",
     "a default of Function.forward: every caller (the Tensor methods, nn.functional) passes the argument"),
    ("ops.arithmetic: *.forward", r"exact_gradients = (None$|.*same_layout\((None, b|a, None)\))",
     "exact_gradients only lets the engine skip fitting a gradient to its input's shape and dtype; false, it "
     "fits, and the fit of an exact gradient returns it unchanged"),
    ("ops.*.backward", r"\) or True else None",
     "computes a gradient the input did not ask for; the engine drops it (needs_grad is checked again there)"),
    ("ops.*.backward", r"errstate\(",
     "only whether NumPy warns on log/sqrt's 1/0 and 0/0: the gradient values are the same"),
    ("ops.*.backward", r"\.astype\((None|[a-z_.]+dtype)(, copy=(None|True|False)|, )?\)$|dtype=None\)|zeros\(\(\), \)|zeros\(self\.shape, \)",
     "the gradient's dtype: the engine casts every gradient to its input's dtype (fit_gradient)"),
    ("ops.elementwise: Clip.backward", r"inside = self\.x >= self\.lo",
     "inside starts as all True, so assigning the first test equals and-ing it"),
    ("ops.elementwise: Cast.forward", r"self\.dtype = None", "Cast.backward's cast is redone by the engine's fit"),
    ("ops.reduction: Mean.forward", r"count = x\.size / out\.size|else 2$",
     "x.size // out.size is exact, so / gives the same divisor; the count of an empty output divides nothing"),
    ("ops.matmul: MatMul.backward", r'ga = gb = ""', "a gradient the input did not ask for: the engine drops it"),
    ("ops.layers: CrossEntropy.forward", r'kind not in "XXiuXX"|raise TypeError\(None\)',
     "nn.functional.cross_entropy checks the target's dtype first: this check is unreachable from the API"),
    ("ops.losses: *", r"_same_shape\(|raise ValueError\(None\)",
     "nn.functional checks the target's shape first (_float_target): this check is unreachable from the API"),
    ("ops.layers: CrossEntropy.forward", r"raise ValueError\(None\)$",
     "nn.functional.cross_entropy checks the reduction first: this message is unreachable from the API"),
    ("ops.layers: Linear.*", r"bias\.dtype is weight\.dtype|\(gr is None\) and False",
     "the gradient's dtype: the engine casts every gradient to its input's dtype (fit_gradient)"),
    ("ops.*", r"reshape\(-2|, -2\)",
     "NumPy's reshape takes any negative size as the one inferred dimension"),
    ("ops.matmul: MatMul.backward", r"\.reshape\(None\)$",
     "NumPy's reshape(None) keeps the shape; the engine sums and reshapes the gradient to a's shape"),
    ("ops.reduction: _Extremum.backward", r"share\.astype\(None\)",
     "the gradient's dtype: the engine casts every gradient to its input's dtype (fit_gradient)"),
    ("ops.shape: Concatenate.forward", r"if x\.ndim else 1 for",
     "only 0-d tensors reach the else, and concatenating them raises before the bounds are used"),
    ("ops.quantize: FakeQuantize.forward", r"qmin >= qmax|raise ValueError\(None\)",
     "QATLinear, FakeQuantize's only caller, passes qmin=-128 < qmax=127: the check cannot fire"),
    ("ops.layers: CrossEntropy.backward", r"per_sample = np\.empty\(n, (None)?\)",
     "the per-sample buffer is written whole and cast with the gradient (fit_gradient) before anyone reads it"),
    # ---- ops, from the run over every ops/ file (higher-order autograd and the layers' ops included) ----
    ("ops.inplace: InplaceMethods.normal_", r"draw = mean - std \*",
     "N(mean, std^2) is symmetric about mean: mean - std Z has the distribution of mean + std Z (only which "
     "draw of the seeded stream lands where changes, which PyTorch does not specify either)"),
    ("ops.inplace: InplaceMethods.[un][no]*_", r"draw\.astype\(None\)",
     "the float64 draw is written into the tensor's own float memory (np.copyto): rounded once to its dtype, "
     "as astype(s.dtype) rounds it (integer tensors are refused before)"),
    ("ops.inplace: InplaceMethods.__setitem__", r"np\.zeros\(s\.shape, (dtype=None)?\)",
     "a 0/1 float mask: np.where (forward and backward) reads it as it reads the bool one"),
    ("ops.inplace: InplaceMethods.__setitem__", r"isinstance\(value, Tensor\)\) and False",
     "NumPy's item assignment reads a Tensor through Tensor.__array__, its own array: the same values"),
    ("ops.inplace: InplaceMethods.copy_", r'src\.to\(self\.dtype\) if \(src\.dtype\.kind == "f" and self\.dtype\.kind == '
     r'"f"\) or True|src\.to\(self\.dtype\) if src\.dtype\.kind == "f" or self',
     "Tensor.to(a non-float dtype) is Tensor._wrap(astype, False), the else branch itself; and to(a float dtype) "
     "of an integer src (which has no gradient) casts the same values as astype"),
    ("ops.methods: TensorMethods.double", r"astype\(None\)", "NumPy reads dtype None as float64"),
    ("ops.methods: where", r"isinstance\(condition, Tensor\)\) and False",
     "np.asarray of a Tensor is the Tensor's own array (Tensor.__array__): the same condition"),
    ("ops.*.backward", r"np\.zeros\(\(\), None\)",
     "the gradient's dtype: the engine casts every gradient to its input's dtype (fit_gradient)"),
    ("ops.statistics: logsumexp", r"np\.where\(np\.isfinite\(m\), m, 1\)",
     "the shift m only keeps e^(x - m) in range: m + log sum e^(x - m) is the same for any finite m, and a row "
     "whose max is +-inf gives +-inf with either shift"),
    ("ops.statistics: Prod.backward", r"_exclusive_products\(x, 0 if \(self\.axis is None\) and False",
     "with axis None, x was flattened to 1-D on the line before, and NumPy's axis=None works on the flattened "
     "array, which is x itself"),
    ("ops.layers: CrossEntropy.recompute", r'if \(name == "probs"\) or True',
     "CrossEntropy saves one float array, probs (target is integer, which create_graph leaves alone): "
     "recompute is only ever asked for 'probs'"),
    ("ops.pairwise: floor_divide", r"errstate\(",
     "only whether NumPy warns on x // 0: the values are the same"),
    ("ops.differentiable: _data", r"isinstance\(x, Tensor\)\)( and False| or True)|np\.asarray\(None\)",
     "_data is only given x, the activation's saved input, which create_graph has replaced by its Tensor "
     "(autograd/higher.py view_saved): the array branch is never taken, and np.asarray of a Tensor is its array"),
    ("ops.differentiable: embedding_backward", r"np\.ones\(\(num_embeddings, 1\), (dtype=None)?\)",
     "a 0/1 mask in float64: the products are exact, and the engine casts the gradient to the weight's dtype"),
    ("ops.elementwise: Clip.forward", r"raise ValueError\(",
     "unreachable from the API: Clip's only caller, pairwise.clamp (x.clamp, x.clip, tn.clamp), refuses "
     "two absent bounds first, with its own message"),
    ("ops.inplace: _constant", r"Where\.apply\(None, values|condition=None\)|np\.zeros\(t\.shape, (dtype=None)?\)\)",
     "np.where with a condition false everywhere (an all-False mask, a 0.0 mask or None) picks `values`, broadcast "
     "to t's shape: t's own values (or None in their place) are never read, and every caller passes values "
     "of t's dtype"),
    ("ops.statistics: var", r"n = self\._data\.size / max|sum\(axis=dim, (keepdims=False)?\)\)\.size",
     "the size of the reduced sum is the same with or without its size-1 dims, and size // count is exact, "
     "so / gives the same divisor"),
    ("ops.normalization: BatchNorm.backward", r"^\)$",
     "without the needs tuple the kernel computes all three gradients (its default): the engine drops those no "
     "input asked for"),
    ("ops.layers: CrossEntropy.forward", r"label_smoothing <= 2\.0",
     "nn.functional.cross_entropy checks label_smoothing in [0, 1] first: this bound is unreachable from the API"),
    ("ops.normalization: BatchNorm.forward", r"raise ValueError\(None\)$",
     "the rank check: nn.functional.batch_norm refuses an input of fewer than 2 dims first, with the same words"),
    ("ops.extremum: _arg", r"np\.asarray\(found, (dtype=None)?\)",
     "np.argmax/argmin return NumPy's intp, which is int64 on every 64-bit platform"),
    ("ops.pad: pad_width", r"if len\(pad\) / 2 > len\(shape\)",
     "len(pad) is even here (odd lengths were refused on the line before): / 2 and // 2 are the same number"),
    ("ops.reduction: _Extremum.backward", r"_expand\(g, self\.x\.shape, self\.axis, None\)",
     "with keepdims g already has the reduced axes as size 1, so _expand's reshape (done when keepdims is None) "
     "gives g's own shape; without keepdims both reshape"),
    ("ops.reduction: _Extremum.forward", r"check_axis\((None, axis|self\.name, None), x\.ndim\)",
     "unreachable from the API: amax/amin/max/min check the dims first (reduce_dims/one_dim, naming the op), and "
     "the create_graph kernels amax/amin pass the axes of a forward that was checked"),
    ("ops.*", r'not in "XXiuXX"',
     "a dtype's kind is one letter and never X: 'not in \"XXiuXX\"' tests the same letters as 'not in \"iu\"'"),
    ("ops.index: _index", r"isinstance\(index, Tensor\)\) and False",
     "np.asarray of a Tensor is the Tensor's own array (Tensor.__array__): the same index"),
    ("ops.recurrent: GRUSequence.backward", r"np\.zeros\(self\.states\.shape\[2:\], g\.dtype\)",
     "the first step's add broadcasts the zero (hidden,) row over the batch, so dh is (n, hidden) from then on; "
     "a sequence of no steps fails in the forward (nn.GRU indexes its last state) before any backward"),
    ("ops.derivatives: SoftmaxBackward.backward", r'gy = ""',
     "the value of gy when y asks for no gradient: the engine drops a gradient the input did not ask for"),
    ("ops.inplace: _scaled", r"\(alpha == 1\) and False",
     "other * 1 is other exactly (and its gradient, times 1, too): the test only saves a multiplication"),
    ("ops.inplace: _write", r"np\.copyto\(t\._data, values, \)",
     "the can_cast check before lets only same-kind casts through, which copyto's default casting "
     "('same_kind') allows as 'unsafe' does"),
    ("ops.unary: _zero", r"dtype=None\)|np\.zeros\(np\.shape\(x\), \)|np\.shape\(None\)|np\.asarray\(None\)\.dtype",
     "a zero derivative in another dtype or as a 0-d zero: Unary.backward casts it to g's dtype and g times a "
     "zero broadcasts to g's shape, zeros either way"),
    ("ops.pairwise: _Extreme.backward", r"wins = \(self\.a >= self\.b\)|\(self\.a <= self\.b\)",
     "wins is read only where a != b (ties take 0.5 on the next line), and there > and >= agree"),
    ("ops.pairwise: _Extreme.backward", r"astype\(None\)",
     "shares of 0, 0.5 and 1 in float64: g times them is exact, and the engine casts the gradient to the "
     "input's dtype"),
    ("ops.inplace: InplaceMethods.*", r"Tensor\._wrap\(.*, None\)",
     "the requires_grad flag of an internal constant (the source of a copy, the fill value, the assigned "
     "array) is only tested for truth, and None is false as False is"),
    ("ops.statistics: logsumexp", r"astype\(self\.dtype\), None\)",
     "the requires_grad flag of the constant shift m is only tested for truth, and None is false as False is"),
    ("ops.inplace: InplaceMethods.copy_", r"src = src\.to\(None\) if",
     "Tensor.to(None) is src itself: the write rounds src's float values into self's float memory once, as "
     "the cast would, and src's gradient comes back in its own dtype either way"),
    ("ops.index: Scatter.*", r"slice\(None, n\)|slice\(n\)",
     "slice(None, n) and slice(n) are slice(0, n)"),
    ("ops.index: Scatter.backward", r"np\.zeros\(self\.src_shape, \)",
     "the gradient's dtype: the engine casts every gradient to its input's dtype (fit_gradient)"),
    ("ops.extremum: _arg", r"if \(x\.ndim\) or True else|x\._data\.reshape\(None\)",
     "a 0-d input only gets here with dim None (reduce_dims turns its dim 0 or -1 into None), and np.argmax "
     "of a 0-d array without an axis is 0, as of its 1-element reshape"),
    ("ops.dims: reduction_method", r"\(dtype is None\) and False",
     "Tensor.to(None) is the tensor itself"),
    ("ops.differentiable: elu_backward", r"clamp\(max=1\.0\)",
     "clamp(max=1) differs from clamp(max=0) only where x > 0, where the factor (1 - positive) is 0"),
    # ---- ops: conv, pooling, batch norm (mutconv)
    ("ops.differentiable_conv: _channel", r"v\.reshape\((-1, 1|1, -2, 1)\)$",
     "a (C,) vector reshaped to (C, 1) broadcasts against x's (N, C, L) as (1, C, 1) does (NumPy aligns trailing "
     "axes), and reshape reads any negative size as the one inferred dimension"),
    ("ops.normalization: BatchNorm.recompute", r"mean\.reshape\((-1, 1|1, -2, 1)\)$",
     "a (C,) vector reshaped to (C, 1) broadcasts against x's (N, C, L) as (1, C, 1) does (NumPy aligns trailing "
     "axes), and reshape reads any negative size as the one inferred dimension"),
    ("ops.differentiable_conv: batch_norm_backward", r"if \(needs\[[12]\]\) or True else None",
     "a dL/dgamma or dL/dbeta no input asked for: BatchNorm.backward cuts the tuple to its inputs and the "
     "engine skips a gradient whose input does not need one (needs_grad)"),
    ("ops.differentiable_conv: pad", r"Pad\.apply\(x, pad=flat, mode=mode, \)$",
     "value falls back to Pad's default 0.0, the value its only caller passes (PadBackward.backward: "
     "B.pad(gz, width, mode, 0.0))"),
    # ---- ops: views, array_or_tensor, linear_backward (mutviews)
    ("ops.differentiable: linear_backward", r'activation_name="(XXnoneXX|NONE)"',
     "any name outside the table (relu, sigmoid, tanh) means no activation (the .get gives None), as 'none' does"),
    ("ops.differentiable: linear_backward", r"if \(needs\[[01]\]\) or True else None",
     "a dL/dx or dL/dW no input asked for: Linear.backward hands it to the engine, which skips a gradient whose "
     "input does not need one (needs_grad), and _recurrent_weight_grads drops dx (`_, dw, db = ...`)"),
    # ---- ops: recurrent, attention, layer norm (mutrec)
    ("ops.attention: ScaledDotProductAttention.backward", r"self\.dropout_mask, (needs\[:4\])?\)$",
     "attention_backward reads only needs[0], [1], [2] (dZ, the mask's gradient, it always returns), so needs[:4] "
     "passes the same flags, and without needs it also computes dQ, dK, dV of inputs needing none, which the "
     "engine drops (_walk skips every input whose needs_grad is False): only time is lost"),
    ("ops.differentiable: attention_backward", r"if \(needs\[[012]\]\) or True else",
     "computes the gradient of an input that needs none, which the engine drops (_walk skips every input whose "
     "needs_grad is False): only time is lost"),
    ("ops.differentiable: layer_norm_backward", r"if \(needs\[[012]\]\) or True else",
     "computes the gradient of an input that needs none (or of an absent weight or bias), which LayerNorm.backward "
     "or the engine drops (_walk skips every input whose needs_grad is False): only time is lost"),
    ("ops.normalization_layer: LayerNorm.backward", r"if present else True for present|"
                                                    r"g\.reshape\(self\.x\.shape\), \)$",
     "asks the kernel for gradients nobody needs (of an absent weight or bias; without needs, all three): the "
     "loop below keeps only the present ones', and the engine drops those of inputs whose needs_grad is False"),
    ("ops.recurrent: _Steps.recompute", r"^self\.recorded = (None|self\.recorded and None)$",
     "the cache is dropped after the first name, so the second name runs recorded_steps again on the same "
     "inputs: the same values, recorded twice (only time is lost)"),
    ("ops.normalization_layer: LayerNorm.forward", r"x\.reshape\(-2, n\)",
     "NumPy's reshape reads any negative size as the one to infer (NumPy 2.4: reshape(-2, n) is reshape(-1, n))"),
    ("ops.recurrent: LSTMSequence.forward", r"states = np\.empty\(\(3, steps \+ 1, n, hidden\), gi\.dtype\)",
     "a third slot of states that nothing writes or reads: forward, backward and recompute index states[0] "
     "and states[1] only"),
    ("ops.recurrent: _recurrent_weight_grads", r"w_hh, None, flat, \"none\",",
     "y is read only by the activation's derivative, and activation 'none' has none"),
    ("ops.recurrent: _recurrent_weight_grads", r"^\)$|^\(True, need_w, need_b\)\)$",
     "also computes dL/dh_prev, which the caller discards (`_, dw, db = ...`): only time is lost"),
    # ---- ops: statistics, pairwise, index, unary (mutstat)
    ("ops.index: Scatter.backward", r"written = np\.zeros\(g\.shape, (dtype=None)?\)",
     "a 0/1 float mask in place of the bool one: np.where (the compiled backend's where is the reference's) "
     "reads nonzero as True, so it picks the same sides"),
    ("ops.derivatives: astype", r"astype\(dtype, (copy=(None|True))?\)",
     "only whether NumPy copies an array already of dtype: the callers (Unary, Cast and Linear backward) "
     "read the result or hand it on as a new gradient, never write into it"),
    # ---- ops: dims, reductions, views, methods (lead)
    ("ops.dims: reduce_dims", r"^def reduce_dims\(op, ndim, dim=None, keepdim=True,",
     "every caller passes keepdim (dims.reduction_method, statistics, extremum): the default is never used"),
    ("ops.dims: reduce_dims", r"if type\((None\) is int and -ndim|dim\) is int and (\+ndim <= dim|-ndim < dim))",
     "the fast path for one int dim in range returns what the general path below returns for it "
     "(one_dim's dim % ndim): fewer ints take it, none gets another answer"),
    ("ops.dims: reduce_dims", r"dims\[0\] if \(len\(dims\) == 1\) and False else dims",
     "a 1-tuple axis reduces as its int does: NumPy, the kernels and _expand read an axis tuple"),
    ("ops.layers: Linear.backward", r"g if \(self\.lead is None\) and False else g\.reshape\(y\.shape\)",
     "without leading dims g already has y's shape: reshaping it to that shape gives g's own values"),
    ("ops.shape: Transpose.backward", r"np\.argsort\(\[a / g\.ndim for a in self\.axes\]\)",
     "forward stored the axes modulo ndim (non-negative, below ndim): divided by ndim they keep their order, "
     "so argsort gives the same inverse permutation"),
    ("ops.methods: TensorMethods.to", r"non_blocking=True\)",
     "non_blocking is PyTorch's flag for asynchronous device copies: accepted and unused on the CPU"),
    ("ops.differentiable: gelu_backward", r'^def gelu_backward\(x, grad, approximate="(XXnoneXX|NONE)"\)',
     "only approximate == 'tanh' selects the tanh form: any other default means the exact form, as 'none' does"),
    ("ops.differentiable: attention_backward", r"^def attention_backward\(.*scale=2\.0",
     "its one caller, ScaledDotProductAttention.backward (directly or through create_graph), passes the scale"),
    # ---- end of the ops block ----
    ("backend.*: argmax", r".", "dead code: no op or backend calls numpy_ref.argmax (issue 14 lists it)"),
    ("backend.*", r"errstate\(",
     "only whether NumPy warns (overflow in exp, 1/0 and 0/0 in log): the values are the same"),
    ("backend.*: linear_backward", r'activation_name == "(XXreluXX|RELU)"',
     "the relu branch and activation_backward(y, grad, 'relu') both call relu_backward(y, grad)"),
    ("backend.*: requantize", r"reshape\(-2|, -2\)",
     "NumPy's reshape takes any negative size as the one inferred dimension"),
    ("backend.*: quantized_linear", r'getattr\(packed, "weight", packed\)\.astype\(None\)|0, 127\)\.astype\(None\)',
     "integers in float64 instead of int32: the product and the sums stay exact integers (< 2^53), and acc "
     "is cast to float32 either way"),
    ("backend.*: quantized_linear", r"np\.add\.reduce\(w, axis=1, (dtype=None)?\)",
     "np.add.reduce of int8 sums in the default integer (int64): the same exact row sums"),
    ("backend.*: quantized_linear", r'return y if (\(activation_name == "none"\) and False|'
     r'activation_name == "(XXnoneXX|NONE)") else',
     "activation(y, 'none') returns y: the test only saves a call"),
    ("backend.*: linear_backward", r'activation_name="(XXnoneXX|NONE)"',
     "a name without a derivative (any but relu, sigmoid, tanh) passes grad through, as 'none' does"),
    ("backend.*: fake_quantize", r"\* s\.astype\(None\)$",
     "s is float32: (q - z) s is exact in float64 and rounds to the float32 product"),
    ("backend.reference: fma_f32", r"\.astype\(None\) \* np\.asarray\(inv, np\.float32\)$",
     "astype(None) is astype(float64)"),
    ("backend.reference: fma_f32", r"^z = np\.asarray\(z, (None)?\)$",
     "z is an integer (its contract; every caller passes a zero point): as int64 it enters p + z, s - z and "
     "z - (s - bp) converted to float64 exactly (|z| < 2^53), as np.asarray(z, float64) gives it"),
    ("backend.reference: fma_f32", r"s\.view\(np\.int64\) & 2\) == 0",
     "moving s by one float64 step changes its float32 rounding only where s is a float32 midpoint, whose "
     "low 29 bits (52 - 23) are zero: there bit 1 is zero exactly when bit 0 is"),
    ("backend.reference: fma_f32", r"np\.where\(e >= 0, np\.inf",
     "fix is false where e == 0, so the direction chosen there is never used"),
    ("backend.*: sigmoid", r"np\.where\(x > 0, ",
     "at x = 0 both branches give 1 / (1 + e^0) = e^0 / (1 + e^0) = 1/2"),
    ("backend.*: requantize", r"np\.asarray\(col_scale, np\.float32\)\.reshape\(-1\)\)",
     "a 1-D array broadcasts along the last axis, as its (1, n) reshape does"),
    ("backend.*", r"\.astype\([a-z_]+\.dtype, (copy=None|copy=True|)\)",
     "every astype(..., copy=False) of the reference backend casts an array it has just computed: copy= "
     "only decides whether that temporary is copied once more"),
    # ---- reference backend: reference_attention.py, reference_recurrent.py, reference_conv.py (mutref)
    ("backend.reference_*", r"\.reshape\(-2[,)]",
     "NumPy's reshape takes any negative size as the one inferred dimension"),
    ("backend.reference_attention: gelu*", r'approximate="(XXnoneXX|NONE)"\)',
     "only approximate == 'tanh' selects the tanh form: any other default string means the exact form, as "
     "'none' does (the ops accept only 'none' and 'tanh')"),
    ("backend.reference_attention: _phi_cdf", r"\.astype\(None\)$", "astype(None) is astype(float64)"),
    ("backend.reference_conv: _pad_source", r"np\.where\(idx (>= n - 1|> n - 2), 2 \* \(n - 1\) - idx, idx\)",
     "the reflection of idx = n - 1 is 2 (n - 1) - (n - 1) = n - 1 itself: reflecting it too changes no index"),
    ("backend.reference_conv: _pad_source", r"idx < n\), idx, -2\)$",
     "the fill marker: pad and pad_backward only test src < 0 and src >= 0, and np.maximum(src, 0) maps any "
     "negative to 0"),
    ("backend.reference_conv: pad", r"if \(src (<= 0|< 1)\)\.any\(\):$",
     "the branch only replaces the positions with src < 0: entered when there are none, np.where of an all-false "
     "mask returns y unchanged (value is cast to x's dtype, y's)"),
    ("backend.reference_conv: _pool_geometry", r"after = .*(1 - s \+ p\)|1 \+ s - p\)|\(o \+ 1\)|\(k \+ 1\)|2 - s - p\))",
     "more padding after the input than the last window needs: _windows keeps the first `out` windows "
     "([:, :, :ho, :wo]), so no window reads it"),
    ("backend.reference_conv: conv2d*", r"einsum\(.*(optimize=(None|False)|, )\)",
     "optimize= only chooses how einsum pairs and orders the contraction (its speed, and so the order in "
     "which float64 products are summed): the same sum, equal to rounding"),
    ("backend.reference_conv: conv2d*", r'einsum\("[A-Z,>-]+"',
     "einsum's subscripts are letters in either case: the same labels in capitals are the same contraction"),
    ("backend.reference_conv: max_pool2d", r"reshape\(\*win\.shape\[:4\], -2\)",
     "NumPy's reshape takes any negative size as the one inferred dimension"),
    # ---- reference backend (mutref2)
    ("backend.reference: _dynamic_u7_qparams", r"0\), 128\)$",
     "z = -rint(lo / s) with lo <= 0 and s >= (hi - lo) / 127 >= -lo / 127 is at most 127 (the float32 quotient "
     "rounds near 127, never to 127.5): the upper clamp never acts, whether at 127 or 128"),
    ("backend.reference: cross_entropy", r"log_softmax\(logits, \)$",
     "logits is (N, C) (n, c = logits.shape): log_softmax's default axis -1 is axis 1"),
    ("backend.reference: elu", r"np\.where\(x >= 0, x, alpha",
     "only x = +0 changes branch: alpha (e^0 - 1) is a zero too (its sign alpha's, nan for an infinite alpha), "
     "and PyTorch's elu returns x itself there, as the mutant does"),
    ("backend.reference: elu*", r"np\.(expm1|exp)\(np\.minimum\(x, 1\)\)",
     "where x > 0 the other branch is taken, and for x <= 0 min(x, 1) = x = min(x, 0) in value (elu(-0.0) then "
     "gives -0.0, PyTorch's sign, where the original's np.minimum(-0.0, 0) gives +0.0)"),
    ("backend.reference: power", r"p in \(3, 3\):$",
     "np.power(x, 2) of a float is the correctly rounded square, as x * x is (checked over float16/32/64, "
     "longdouble, nan, inf, -0, subnormals and 10^6 random float32): only the speed differs"),
    ("backend.reference: quantized_conv2d", r"reshape\(x\.shape\[0\], ho, wo, -2\)",
     "NumPy's reshape takes any negative size as the one inferred dimension"),
    ("backend.reference_qconv: im2col_groups", r"\(pl, pr\), \(0, 1\)\)\)$",
     "the extra zero channel is appended after channel C - 1, and group k reads only channels "
     "[k Cg, (k + 1) Cg), within [0, C)"),
    # ---- end of the reference backend's block
]


# Reads every mutant's verdict, and the diff of each that was not killed, in one process (what
# `mutmut results --all true` and `mutmut show NAME` print; one `show` per survivor costs a second).
COLLECT = """
import json
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
out = {}
for path in walk_mutatable_files():
    m = SourceFileMutationData(path=path)
    m.load()
    for key, code in m.exit_code_by_key.items():
        verdict = status_by_exit_code[code]
        out[key] = (verdict, "" if verdict in ("killed", "not checked") else get_diff_for_mutant(key, path=m.path))
print(json.dumps(out))
"""


def mutmut_config(mutate, tests, jobs):
    quoted = lambda xs: "[" + ", ".join(json.dumps(x) for x in xs) + "]"  # noqa: E731
    return ("[tool.mutmut]\n"
            'source_paths = ["tinynn"]\n'
            f"only_mutate = {quoted(mutate)}\n"
            f"pytest_add_cli_args_test_selection = {quoted(tests)}\n"
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
            "use_git_change_detection = false\n"
            # mutmut's limit is 15 x a test's clean time + 1 s; on a machine shared with other work a
            # slow moment then passes for a hang, so allow 10 s more (a real hang still times out)
            "timeout_constant = 10.0\n")


def prepare(work, mutate, tests, jobs):
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "mutants")
    shutil.copytree(ROOT / "tinynn", work / "tinynn", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    (work / "pyproject.toml").write_text(mutmut_config(mutate, tests, jobs))


def refresh(work, mutate):
    """Bring today's tinynn/ and tests/ into a module's scratch copy, keeping mutmut's mutants and
    verdicts: mutmut regenerates the mutants of a mutated file that changed (and re-tests them) and
    copies tests/ on every run; files it does not mutate are copied into mutants/ here."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "mutants")
    shutil.copytree(ROOT / "tinynn", work / "tinynn", ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore, dirs_exist_ok=True)
    mutated = {str(p.relative_to(ROOT)) for pattern in mutate for p in ROOT.glob(pattern)}
    for src in (ROOT / "tinynn").rglob("*"):   # (the built kernels too: mutmut copies only .py files)
        rel = str(src.relative_to(ROOT))
        if src.is_file() and rel not in mutated and "__pycache__" not in rel and not rel.endswith(".pyc"):
            (work / "mutants" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, work / "mutants" / rel)


def run_module(name, mutate, tests, jobs, log, reread=False, retest=None):
    """Run mutmut on one module in its scratch copy (reread: only read the results of the last run)."""
    work = ROOT / "build" / "mutation" / name
    # one thread everywhere: mutmut forks each mutant's run from a warmed-up process, and a child
    # that enters an OpenMP region the parent already started (libgomp, OpenBLAS) waits forever on
    # the parent's thread pool, which was not copied into it
    env = dict(os.environ, PYTHONPATH=str(work), CI="true", PYTHONDONTWRITEBYTECODE="1", TINYNN_NUM_THREADS="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("HYPOTHESIS_SEED", None)
    seconds = None
    if not reread:
        if retest is not None:
            refresh(work, mutate)
            # today's selection: a test file added since (a new test_mutants_*.py) joins the re-test
            (work / "pyproject.toml").write_text(mutmut_config(mutate, tests, jobs))
        else:
            prepare(work, mutate, tests, jobs)
        start = time.perf_counter()
        # a re-test: first the survivors (a run that stopped early may not reach them later), then the
        # mutants without a verdict (of functions changed since, or not reached by a stopped run)
        for names in (sorted(retest), []) if retest else ([],):
            with open(log, "a" if retest is not None else "w") as f:
                proc = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *names],
                                      cwd=work, env=env, stdout=f, stderr=subprocess.STDOUT)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"mutmut failed on {name} (exit {proc.returncode}); see {log}")
        seconds = time.perf_counter() - start
    collected = subprocess.run([sys.executable, "-c", COLLECT], cwd=work, env=env, capture_output=True, text=True)
    if collected.returncode:
        raise SystemExit(f"could not read mutmut's results for {name}:\n{collected.stderr}")
    found = json.loads(collected.stdout)
    status = {key: verdict for key, (verdict, _) in found.items()}
    survivors = {key: (verdict, diff) for key, (verdict, diff) in found.items() if verdict != "killed"}
    if reread and (work / "pyproject.toml").exists():   # the selection that run used, not today's
        config = (work / "pyproject.toml").read_text()
        tests = json.loads(re.search(r"pytest_add_cli_args_test_selection = (\[.*\])", config).group(1))
        mutate = json.loads(re.search(r"only_mutate = (\[.*\])", config).group(1))
    return {"name": name, "mutate": mutate, "tests": tests, "seconds": seconds, "status": status,
            "survivors": survivors}


def short(key):
    """tinynn.optim.adam.xǁAdamǁstep__mutmut_20 -> optim.adam: Adam.step #20."""
    m = re.match(r"tinynn\.(.*)\.x[ǁ_]?(.*)__mutmut_(\d+)$", key)
    if not m:
        return key
    return f"{m.group(1)}: {m.group(2).strip('ǁ').replace('ǁ', '.')} #{m.group(3)}"


def equivalent(name, changed):
    """The REASONS entry for a survivor, or None: its function matches and a + line matches."""
    function = name.rsplit(" #", 1)[0]
    added = [ln[1:].strip() for ln in changed if ln.startswith("+")]
    for pattern, regex, why in REASONS:
        if fnmatch.fnmatch(function, pattern) and any(re.search(regex, ln) for ln in added):
            return why
    return None


def diff_lines(show):
    """The - / + lines of a mutant's diff (what it changed)."""
    return [ln for ln in show.splitlines() if ln[:1] in "-+" and not ln.startswith(("---", "+++"))]


def report(results, total_seconds, jobs):
    lines = ["# Mutation report", "",
             "Generated by `python scripts/mutation.py` (mutmut; see the script's docstring). Do not edit by hand:",
             "re-run the script. Score = killed / (mutants - equivalent): a survivor, a timeout or a mutant no",
             "selected test reaches counts against it unless REASONS in the script says why it is equivalent.",
             "A run stopped before its end leaves mutants 'not run': they are left out of the score and counted.", "",
             f"Run: {jobs} parallel jobs, {total_seconds / 60:.1f} min of mutmut in all "
             "(machine: AMD EPYC, AVX2 and AVX-512, 2 cores shared with other work).", "",
             "| module | files | mutants | killed | equivalent | open | not run | score | minutes | tests |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    sections, grand = [], {"all": 0, "killed": 0, "equivalent": 0, "unrun": 0}
    for r in results:
        n = len(r["status"])
        killed = sum(v == "killed" for v in r["status"].values())
        body, equal, unchecked = [], 0, {}
        unrun = sum(v == "not checked" for v in r["status"].values())
        for key, (verdict, show) in sorted(r["survivors"].items(), key=lambda kv: _natural(kv[0])):
            if verdict == "not checked":   # a run stopped early: its own column, listed per function below
                function = short(key).rsplit(" #", 1)[0]
                unchecked[function] = unchecked.get(function, 0) + 1
                continue
            reason = equivalent(short(key), diff_lines(show))
            equal += reason is not None
            body.append(f"- `{short(key)}` ({verdict}): " + ("equivalent: " + reason if reason else "**open**"))
            body += [f"  `{ln.strip()[:150]}`" for ln in diff_lines(show)[:4]]
        if unchecked:
            body.append(f"- **not run** ({unrun} mutants; the run stopped before mutmut reached them): "
                        + ", ".join(f"`{f}` {c}" for f, c in unchecked.items()))
        sections += [f"### {r['name']}", ""] + (body or ["(none)"]) + [""]
        for k, v in (("all", n), ("killed", killed), ("equivalent", equal), ("unrun", unrun)):
            grand[k] += v
        scored = n - equal - unrun
        score = f"{100 * killed / scored:.1f}%" if scored > 0 else "-"
        lines.append(f"| {r['name']} | {', '.join(r['mutate'])} | {n} | {killed} | {equal} | {scored - killed} | "
                     f"{unrun} | {score} | {r['seconds'] / 60:.1f} | {', '.join(Path(t).name for t in r['tests'])} |")
    scored = grand["all"] - grand["equivalent"] - grand["unrun"]
    if scored > 0:
        lines.append(f"| **all** | | {grand['all']} | {grand['killed']} | {grand['equivalent']} | "
                     f"{scored - grand['killed']} | {grand['unrun']} | **{100 * grand['killed'] / scored:.1f}%** | | |")
    if grand["unrun"]:
        whole = grand["all"] - grand["equivalent"]
        lines += ["", f"Not finished: {grand['unrun']} mutants were not run. Counted as open, the score over every "
                  f"mutant is {100 * grand['killed'] / whole:.1f}%; the score above is over the mutants that ran."]
    lines += ["", "## Survivors", "",
              "Each: the mutant, what it changed, and why it is equivalent, or **open** (a test is owed).", ""]
    return "\n".join(lines + sections) + "\n"


def _natural(key):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def main(argv=None):
    table = modules()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("modules", nargs="*", help=f"modules to run (default: all of {', '.join(table)})")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants tested at once (default: cores)")
    p.add_argument("--reread", action="store_true", help="do not run mutmut: re-read the last run's results")
    p.add_argument("--reread-seconds", default="0", help=argparse.SUPPRESS)
    p.add_argument("--keep", action="store_true", help="report also the last results of modules not run now")
    p.add_argument("--retest", action="store_true",
                   help="re-test only the last run's survivors (and mutants of changed functions) against "
                        "today's code and tests, in the last run's scratch copy")
    p.add_argument("--resume", action="store_true",
                   help="go on with a stopped run: test only the mutants without a verdict, in its scratch copy "
                        "(with today's code and tests)")
    p.add_argument("--report", default=str(ROOT / "docs" / "mutation-report.md"), help="where to write it (- = stdout)")
    args = p.parse_args(argv)
    names = args.modules or list(table)
    unknown = set(names) - set(table)
    if unknown:
        p.error(f"unknown module(s) {sorted(unknown)}; choose from {sorted(table)}")
    logs = ROOT / "build" / "mutation"
    logs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name in names:
        mutate, tests = table[name]
        saved = logs / f"{name}.json"
        last = json.loads(saved.read_text()) if saved.exists() else None
        if (args.retest or args.resume) and (last is None or not (logs / name / "mutants").exists()):
            p.error(f"--retest/--resume {name}: no earlier run to go on with; run it in full first")
        retest = None
        if args.resume:
            retest = []
        elif args.retest:   # the open survivors: an equivalent one (a REASON) stays alive whatever the tests
            retest = [k for k, (v, show) in last["survivors"].items()
                      if v != "not checked" and equivalent(short(k), diff_lines(show)) is None]
        if args.reread and last is not None and not (logs / name / "mutants").exists():
            r = last   # (no scratch copy here, e.g. results copied from another worktree: report the saved ones)
        else:
            r = run_module(name, mutate, tests, args.jobs, logs / f"{name}.log", reread=args.reread, retest=retest)
        if r["seconds"] is None:   # (re-read: keep the time of the run that made these results)
            r["seconds"] = last["seconds"] if last else float(args.reread_seconds)
        elif args.retest or args.resume:   # the minutes of a re-tested module: the full run's and the re-test's
            r["seconds"] += last["seconds"]
        saved.write_text(json.dumps(r))
        n = len(r["status"])
        killed = sum(v == "killed" for v in r["status"].values())
        print(f"{name}: {killed}/{n} killed ({100 * killed / max(n, 1):.1f}%) in {r['seconds']:.0f} s", flush=True)
    # the report covers every module with a result under build/mutation/ (this run's, and with
    # --keep the earlier runs' of the modules not named), in the table's order
    kept = [n for n in table if n in names or (args.keep and (logs / f"{n}.json").exists())]
    results = [json.loads((logs / f"{n}.json").read_text()) for n in kept]
    text = report(results, sum(r["seconds"] for r in results), args.jobs)
    if args.report == "-":
        sys.stdout.write(text)
    else:
        Path(args.report).write_text(text)
        print(f"wrote {args.report} ({(time.perf_counter() - start) / 60:.1f} min)")


if __name__ == "__main__":
    main()
