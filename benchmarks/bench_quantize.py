"""int8 inference vs tinynn's own float32 forward, model sizes, and structured-pruning speed-up.

    python benchmarks/bench_quantize.py                  # 784-1024-1024-10 at batch 256
    python benchmarks/bench_quantize.py --repeats 30 --batch 256

Reports medians over --repeats timed forwards (after warm-up) of
  float32   the nn.Sequential forward under no_grad (fused Linear+ReLU ops),
  int8 dyn  quantize_dynamic (per-batch activation scales) on the backend's int8 kernels,
  int8 stat quantize_static (calibrated activation scales),
the ratio float32 / int8 (> 1 means int8 is faster), the stored sizes, and the forward time of a
784-1024-1024-10 model before and after structured pruning of 50% of its hidden neurons + shrink.
"""
import argparse
import statistics
import time

import numpy as np

import tinynn as tn  # noqa: E402
from tinynn import nn, prune, quantize  # noqa: E402
from tinynn.io.modelfile import mlp  # noqa: E402
from _timing import parse_args  # this folder: sys.path[0] of a script

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
    kernel = "int8_linear (fused)" if hasattr(b, "int8_linear") else "int8_matmul + requantize"
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
    run(batch=args.batch, repeats=args.repeats)


if __name__ == "__main__":
    main()
