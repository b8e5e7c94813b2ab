"""int8 inference vs tinynn's own float32 forward, model sizes, and structured-pruning speed-up.

    python benchmarks/bench_quantize.py                  # 784-1024-1024-10 at batch 256
    python benchmarks/bench_quantize.py --repeats 30 --batch 256

Reports medians over --repeats timed forwards (after warm-up) of
  float32   the nn.Sequential forward under no_grad (fused Linear+ReLU ops),
  int8 dyn  quantize_dynamic (per-batch activation scales) on the backend's int8 kernels,
  int8 stat quantize_static (calibrated activation scales),
the ratio float32 / int8 (> 1 means int8 is faster), the stored sizes, and the forward time of a
784-1024-1024-10 model before and after structured pruning of 50% of its hidden neurons + shrink.

Then the digits ResNet (models.ResNet 8-16-32 on 8x8 images, BatchNorm statistics from the data) at
batch 256, 1 thread, timed in turns: its float32 eval forward against quantize_static and
quantize_dynamic (BatchNorm folded, convolutions on the int8 kernels), and PyTorch's float32 forward
of the same network when PyTorch is installed.

First, one table (1 thread, every contender timed in turns, ratios of medians of one run): a
dynamically quantized Linear 1024 -> 1024 at batch 256 (activation range + 7-bit quantization +
int8 GEMM + fused epilogue) on each int8 path this CPU has, forced with kernels.set_int8_path,
and kernels.int8_matmul (s8 x s8, exact), against NumPy's float32 layer x @ W.T + b.  Unset
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the command (env -u ...) so NumPy runs its best kernel;
the OpenBLAS kernel in use and the CPU are printed.
"""
import argparse
import statistics
import time

import numpy as np

import tinynn as tn  # noqa: E402
from tinynn import nn, prune, quantize  # noqa: E402
from tinynn.io.modelfile import mlp  # noqa: E402
from _timing import limits, median_times_in_turns, parse_args  # this folder: sys.path[0] of a script

QUICK = ["--repeats", "5"]  # --quick: about a minute


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def torch_contenders(x, w, b):
    """PyTorch's float32 Linear and its dynamic int8 Linear (x86 engine: 7-bit activations) on the
    same weights, when PyTorch is installed; an empty dict otherwise."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    layer = torch.nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        layer.bias.copy_(torch.from_numpy(b))
    dynamic = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(layer), {torch.nn.Linear},
                                                     dtype=torch.qint8)
    tx = torch.from_numpy(x)

    def timed(module):
        def call():
            with torch.no_grad():
                module(tx)
        return call
    return {"torch float32 Linear": timed(layer),
            f"torch dynamic int8 ({torch.backends.quantized.engine})": timed(dynamic)}


def layer_vs_numpy(batch=256, features=1024, min_time=2.0):
    """The table described in the module docstring; returns {contender: float32 time / its time}."""
    from tinynn import kernels
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, features)).astype(np.float32)
    layer = nn.Linear(features, features)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    q = quantize.QuantizedLinear.from_float(layer)
    a8 = rng.integers(-128, 128, (batch, features)).astype(np.int8)
    b8 = rng.integers(-128, 128, (features, features)).astype(np.int8)
    contenders = {"numpy float32 x @ W.T + b": lambda: x @ w.T + b}

    def on(path):
        def call():
            kernels.set_int8_path(path)
            q(x)
        return call
    for path in kernels.int8_paths():
        contenders[f"int8 Linear, {path}"] = on(path)
    contenders["kernels.int8_matmul (s8 x s8)"] = lambda: kernels.int8_matmul(a8, b8, num_threads=1)
    contenders.update(torch_contenders(x, w, b))
    threads = tn.get_num_threads()
    tn.set_num_threads(1)
    try:
        with limits(), tn.no_grad():
            times = median_times_in_turns(list(contenders.values()), min_time=min_time)
    finally:
        kernels.set_int8_path("auto")
        tn.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"Linear {features} -> {features}, batch {batch}, 1 thread, {cpu_name()}; NumPy BLAS: {blas}")
    ratios = {}
    by_name = dict(zip(contenders, times))
    torch_int8 = next((t for name, t in by_name.items() if name.startswith("torch dynamic")), None)
    for name, t in by_name.items():
        ratios[name] = times[0] / t
        versus_torch = f"   vs torch int8: {torch_int8 / t:.2f}x" if torch_int8 else ""
        print(f"  {name:34s} {t * 1e3:8.3f} ms   vs float32: {ratios[name]:.2f}x{versus_torch}")
    return ratios


def torch_resnet(model, x):
    """PyTorch's float32 forward of the same ResNet (the stem, the blocks with their shortcuts, the
    head) with tinynn's weights, when PyTorch is installed; None otherwise."""
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    t = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in model.state_dict().items()}

    def bn(v, p):
        return F.batch_norm(v, t[p + ".running_mean"], t[p + ".running_var"], t[p + ".weight"], t[p + ".bias"])

    def conv(v, p, stride, pad):
        return F.conv2d(v, t[p + ".weight"], None, stride, pad)
    blocks = [(f"{name}.0", module[0].conv1.stride[0], module[0].downsample is not None)
              for name, module in model.named_children() if name.startswith("layer")]
    tx = torch.from_numpy(x.reshape(-1, 1, 8, 8))

    def forward():
        with torch.no_grad():
            v = F.relu(bn(conv(tx, "conv1", 1, 1), "bn1"))
            for p, stride, down in blocks:
                out = F.relu(bn(conv(v, p + ".conv1", stride, 1), p + ".bn1"))
                out = bn(conv(out, p + ".conv2", 1, 1), p + ".bn2")
                short = bn(conv(v, p + ".downsample.0", stride, 0), p + ".downsample.1") if down else v
                v = F.relu(out + short)
            return F.linear(v.mean(dim=(2, 3)), t["fc.weight"], t["fc.bias"])
    torch.set_num_threads(1)
    return forward


def resnet_int8(batch=256, min_time=2.0):
    """The ResNet table described in the module docstring; returns {variant: float32 time / its time}."""
    from tinynn.models import ResNet
    tn.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 64), dtype=np.float32)
    model = ResNet([8, 16, 32])
    with tn.no_grad():
        model(tn.tensor(x))                      # BatchNorm running statistics of these images
    model.eval()
    xt = tn.tensor(x)
    static = quantize.quantize_static(model, [xt[i:i + 32] for i in range(0, batch, 32)])
    dynamic = quantize.quantize_dynamic(model)
    contenders = {"float32 forward": lambda: model(xt), "int8 static": lambda: static(xt),
                  "int8 dynamic": lambda: dynamic(xt)}
    forward = torch_resnet(model, x)
    if forward is not None:
        with tn.no_grad():
            gap = np.abs(forward().numpy() - model(xt).numpy()).max()
        assert gap < 1e-3, f"PyTorch's forward of the ResNet differs from tinynn's by {gap}"
        contenders["torch float32 forward"] = forward
    threads = tn.get_num_threads()
    tn.set_num_threads(1)
    try:
        with limits(), tn.no_grad():
            times = median_times_in_turns(list(contenders.values()), min_time=min_time)
            err = float(np.abs(static(xt).numpy() - model(xt).numpy()).max() / np.abs(model(xt).numpy()).max())
    finally:
        tn.set_num_threads(threads)
    print(f"ResNet 8-16-32 on 8x8 digits, batch {batch}, 1 thread, {cpu_name()}, int8 path "
          f"{tn.backend.active.kernels.int8_path()}")
    ratios = {}
    for name, t in zip(contenders, times):
        ratios[name] = times[0] / t
        print(f"  {name:24s} {t * 1e3:8.3f} ms   float32/this: {ratios[name]:.2f}x")
    print(f"  max |int8 static - float| / max |float| = {err:.2e}")
    return ratios


def run(sizes=(784, 1024, 1024, 10), batch=256, repeats=20):
    tn.manual_seed(0)
    rng = np.random.default_rng(0)
    model = mlp(sizes).eval()
    x = rng.random((batch, sizes[0]), dtype=np.float32)
    xt = tn.tensor(x)
    qd = quantize.quantize_dynamic(model)
    qs = quantize.quantize_static(model, [x[: batch // 2], x[batch // 2:]])
    with tn.no_grad():
        t_float = median_ms(lambda: model(xt), repeats)
        t_dyn = median_ms(lambda: qd(xt), repeats)
        t_stat = median_ms(lambda: qs(xt), repeats)
        err = float(np.abs(qd(xt).data - model(xt).data).max() / np.abs(model(xt).data).max())
    b = tn.backend.active
    kernel = "quantized_linear, int8 path " + b.kernels.int8_path() if hasattr(b, "kernels") else "NumPy"
    print(f"int8 vs float32: {'-'.join(map(str, sizes))} MLP, batch {batch}, backend {tn.get_backend()} "
          f"({kernel}), {tn.get_num_threads()} threads, median of {repeats}")
    print(f"  float32 forward      {t_float:9.3f} ms")
    print(f"  int8 dynamic         {t_dyn:9.3f} ms   float32/int8 = {t_float / t_dyn:.2f}x")
    print(f"  int8 static          {t_stat:9.3f} ms   float32/int8 = {t_float / t_stat:.2f}x")
    print(f"  max |int8 - float| / max |float| = {err:.2e}")
    fs, ds = quantize.model_size(model), quantize.model_size(qd)
    print(f"  size: float32 {fs} bytes, int8 {ds} bytes ({100 * ds / fs:.1f}%)")

    pruned = mlp(sizes)
    prune.magnitude(pruned, 0.5, structured=True)
    small = prune.shrink(pruned).eval()
    prune.remove(pruned)
    pruned.eval()
    with tn.no_grad():
        t_dense = median_ms(lambda: pruned(xt), repeats)
        t_small = median_ms(lambda: small(xt), repeats)
    widths = [m.out_features for m in small if isinstance(m, nn.Linear)]
    print(f"structured pruning 50% of hidden neurons + shrink: widths {list(sizes[1:])} -> {widths}")
    print(f"  dense (zeros kept) {t_dense:9.3f} ms, shrunk {t_small:9.3f} ms   speed-up {t_dense / t_small:.2f}x")
    return dict(float_ms=t_float, dynamic_ms=t_dyn, static_ms=t_stat, dense_ms=t_dense, shrunk_ms=t_small)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--backend", default=None, help="cython or numpy (default: tinynn's default)")
    args = parse_args(ap, QUICK)
    if args.backend:
        tn.set_backend(args.backend)
    if tn.get_backend() == "cython":
        layer_vs_numpy(batch=args.batch)
        resnet_int8(batch=args.batch)
    run(batch=args.batch, repeats=args.repeats)


if __name__ == "__main__":
    main()
