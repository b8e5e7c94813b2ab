"""`tinynn demo`: the whole of tinynn in one run, ending in one table.

1. train the seed MLP 64-128-64-10 (ReLU, cross-entropy, SGD with momentum) on the embedded
   digits, with a progress bar; evaluate it on the held-out test set;
2. prune it: 80% of the weights by magnitude (global ranking), fine-tune, make it permanent;
   and, separately, 50% of the hidden neurons (structured) + fine-tune + shrink to a smaller
   dense network;
3. quantize the trained model to int8 (per-output-channel weight scales, int8 GEMM): dynamic
   (activation range measured on every batch) and static (ranges calibrated on 256 samples);
4. distil a small student 64-32-10 from the trained model (soft targets at T = 4);
5. for --cnn-epochs epochs (default 4, about 97.5%; 0 leaves it out, as it takes most of the demo's
   time), train a small convolutional network (models.ResNet, 8-16-32 channels) on the same images,
   prune half of its block channels (structured) + fine-tune + shrink, and quantize it to int8
   (static); its rows join the table;
6. print one table: variant, test accuracy, parameters, size in KB, batch-256 latency, speed-up
   over the trained float model of its family (MLP or CNN). Every figure is measured in this run.
"""
import functools
import time
from pathlib import Path

import numpy as np

from ..io.modelfile import linear_sizes, mlp, save_model
from ..train import count_params, evaluate, fit, format_table, latency_ms, make_optimizer, model_bytes
from .common import StepEveryBatch, add_common, data_spec, load_data, nonneg_int, positive_int, setup

say = functools.partial(print, flush=True)

HIDDEN = [128, 64]          # the seed example's network
STUDENT_HIDDEN = [32]
BATCH, LR, MOMENTUM = 32, 0.05, 0.9
PRUNE_AMOUNT, NEURON_AMOUNT, FINETUNE_EPOCHS, FINETUNE_LR = 0.8, 0.5, 3, 0.01
T, ALPHA = 4.0, 0.9
CNN_CHANNELS, CNN_EPOCHS, CNN_LR, CNN_BATCH = [8, 16, 32], 4, 3e-3, 64


def add_parser(sub):
    d = sub.add_parser("demo", help="the tour: train, evaluate, prune, quantize, distil; one table",
                       description="Train the seed MLP 64-128-64-10 on the embedded digits with a progress bar, "
                       "evaluate it, prune + fine-tune it, quantize it to int8, distil a small student, and end "
                       "with one table of accuracy, size and latency -- every figure computed in this run.")
    add_common(d)
    d.add_argument("--epochs", type=positive_int, default=15, help="training epochs (default 15)")
    d.add_argument("--cnn-epochs", type=nonneg_int, default=CNN_EPOCHS, help="train, prune and quantize a small "
                   f"ResNet for this many epochs (default {CNN_EPOCHS}, about 97.5%%; at most --epochs; 0 leaves it "
                   "out: it takes most of the demo's time)")
    d.add_argument("--plot", metavar="DIR", help="also write PNG figures to DIR (needs matplotlib: pip install 'tinynn-scratch[plot]')")
    d.add_argument("--out", metavar="DIR", help="also save every model of the table as .npz in DIR")
    d.add_argument("--latency-threads", type=positive_int, default=1, help="kernel threads for the latency "
                   "column (default 1: these models are too small to gain from more, and 1 thread measures "
                   "steadily on a busy machine)")
    d.set_defaults(func=run)


def _cnn_rows(args, epochs, X, y, Xt, yt, record, spec):
    """Step 5: train models.ResNet(CNN_CHANNELS) on the images, prune half its block channels and
    shrink it, quantize it to int8; three rows of the table."""
    import tinynn as tn
    from ..compress import prune, quantize
    from ..io.modelfile import conv_spec
    from ..models import ResNet
    from ..optim.lr_scheduler import OneCycleLR

    side = int(round(X.shape[1] ** 0.5))
    arch = {"block_channels": CNN_CHANNELS, "num_classes": int(spec["sizes"][-1]), "in_channels": 1, "blocks": 1}
    about = conv_spec("resnet", (1, side, side), **arch)
    name = "ResNet " + "-".join(map(str, CNN_CHANNELS))
    say(f"\n[5/5] training a convolutional network, {name} (BatchNorm, residual blocks): AdamW lr={CNN_LR}, "
        f"one-cycle, batch {CNN_BATCH}, {epochs} epochs; then half its block channels pruned, int8")
    model = ResNet(**arch)
    opt = make_optimizer("adamw", model.parameters(), CNN_LR, weight_decay=5e-4)
    steps = OneCycleLR(opt, max_lr=CNN_LR, total_steps=epochs * -(-len(X) // CNN_BATCH))
    fit(model, StepEveryBatch(opt, steps), X, y, epochs=epochs, batch_size=CNN_BATCH, desc="train cnn",
        quiet=args.quiet)
    acc = record(f"{name} (float32)", model, "cnn.npz", **about)
    pruned = prune.magnitude(_copy_of(model, ResNet(**arch)), 0.5, scope="layer", structured=True)
    fit(pruned, make_optimizer("sgd", pruned.parameters(), FINETUNE_LR, MOMENTUM), X, y, epochs=1,
        batch_size=CNN_BATCH, desc="fine-tune", quiet=args.quiet)
    small = prune.shrink(pruned).eval()
    acc2 = record(f"{name} half channels -> shrunk", small, "cnn-shrunk.npz", **about)
    int8 = quantize.quantize_static(model, [tn.tensor(X[i:i + 32]) for i in range(0, 256, 32)])
    acc3 = record(f"{name} int8 (static)", int8.eval(), "cnn-int8.npz", **about,
                  quantized={"method": "static", "observer": "minmax"})
    say(f"      accuracy {acc:.2%} float32, {acc2:.2%} shrunk, {acc3:.2%} int8")


def _copy_of(model, fresh):
    fresh.load_state_dict({k: np.array(v, copy=True) for k, v in model.state_dict().items()})
    return fresh


def run(args):
    """The demo; `args` carries data, data_dir, epochs, seed, quiet, plot, out."""
    import tinynn as tn
    from ..compress import distill, prune, quantize

    setup(args)
    started = time.perf_counter()
    X, y, Xt, yt = load_data(args.data, args.data_dir)
    n_in, n_out = X.shape[1], int(max(y.max(), yt.max())) + 1
    sizes = [n_in, *HIDDEN, n_out]
    if args.plot:
        from .. import plots

        plots.require_matplotlib()
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    say(f"tinynn demo: {args.data} ({len(X)} train / {len(Xt)} test samples, {n_in} features, {n_out} classes), "
        f"backend {tn.get_backend()}, seed {args.seed}")

    rows, written = [], []
    spec = {"sizes": sizes, "activation": "relu", **data_spec(args)}

    def record(name, model, file, sparse=False, compress=False, **about):
        """A row of the table; with --out, the model saved as `file` too."""
        acc = evaluate(model, Xt, yt)["accuracy"]
        params = f"{count_params(model, nonzero=True):,}*" if sparse else f"{count_params(model):,}"
        family = "cnn" if "arch" in about else "mlp"   # the speed-up is over the family's trained float model
        rows.append({"variant": name, "acc": acc, "params": params, "kb": model_bytes(model) / 1024, "model": model,
                     "family": family})
        if args.out:
            written.append(("saved", str(Path(args.out) / file)))
            desc = {**data_spec(args), **about} if "arch" in about else {**spec, "sizes": linear_sizes(model), **about}
            save_model(model, written[-1][1], desc, compress=compress)
        return acc

    def pruned_copy(amount, **how):
        """A copy of the trained model with `amount` pruned by magnitude, fine-tuned, made permanent."""
        copy = mlp(sizes)
        copy.load_state_dict({k: np.array(v, copy=True) for k, v in model.state_dict().items()})
        prune.magnitude(copy, amount, **how)
        acc = evaluate(copy, Xt, yt)["accuracy"]
        fit(copy, make_optimizer("sgd", copy.parameters(), FINETUNE_LR, MOMENTUM), X, y, epochs=FINETUNE_EPOCHS,
            batch_size=BATCH, desc="fine-tune", quiet=args.quiet)
        sparsity = prune.sparsity(copy)
        prune.remove(copy)
        return copy, acc, sparsity

    # 1. train + evaluate -----------------------------------------------------------------
    say(f"\n[1/5] training the seed MLP {'-'.join(map(str, sizes))}: SGD lr={LR} momentum={MOMENTUM}, "
        f"batch {BATCH}, {args.epochs} epochs")
    model = mlp(sizes)
    opt = make_optimizer("sgd", model.parameters(), LR, MOMENTUM)
    t0 = time.perf_counter()
    history = fit(model, opt, X, y, epochs=args.epochs, batch_size=BATCH, eval_data=(Xt, yt),
                  desc="train", quiet=args.quiet)
    result = evaluate(model, Xt, yt)
    say(f"      test accuracy {result['accuracy']:.2%}, test loss {result['loss']:.4f} "
        f"({time.perf_counter() - t0:.1f} s)")
    record("float32 (trained)", model, "model.npz", trained={"epochs": args.epochs, "test_accuracy": result["accuracy"]})
    if args.plot:
        written += [("wrote", plots.training_curves(history, args.plot)),
                    ("wrote", plots.confusion_matrix(result["confusion"], args.plot))]

    # 2. prune ----------------------------------------------------------------------------
    say(f"\n[2/5] pruning {PRUNE_AMOUNT:.0%} of the weights by magnitude (global), fine-tuning "
        f"{FINETUNE_EPOCHS} epochs")
    pruned, acc0, sparsity = pruned_copy(PRUNE_AMOUNT, scope="global")
    acc1 = record(f"pruned {PRUNE_AMOUNT:.0%} weights", pruned, "pruned.npz", sparse=True, compress=True,
                  pruned={"amount": PRUNE_AMOUNT, "sparsity": sparsity})
    say(f"      sparsity {sparsity:.1%}; accuracy {acc0:.2%} right after pruning, {acc1:.2%} after fine-tuning")
    say(f"      and {NEURON_AMOUNT:.0%} of the hidden neurons by L2 norm (structured), fine-tuning, shrinking")
    narrow = prune.shrink(pruned_copy(NEURON_AMOUNT, scope="layer", structured=True)[0])
    narrow_sizes = "-".join(map(str, linear_sizes(narrow)))
    acc2 = record(f"pruned {NEURON_AMOUNT:.0%} neurons -> {narrow_sizes}", narrow, "shrunk.npz")
    say(f"      shrunk to {narrow_sizes}: accuracy {acc2:.2%}")

    # 3. quantize -------------------------------------------------------------------------
    say("\n[3/5] quantizing the trained model to int8 (per-output-channel symmetric weights; dynamic and static)")
    qmodel = quantize.quantize_dynamic(model).eval()
    acc3 = record("int8 (dynamic quantization)", qmodel, "model-int8.npz", quantized={"method": "dynamic"})
    smodel = quantize.quantize_static(model, [tn.tensor(X[i:i + 32]) for i in range(0, 256, 32)], observer="minmax")
    acc3s = record("int8 (static, calibrated)", smodel.eval(), "model-int8-static.npz",
                   quantized={"method": "static", "observer": "minmax"})
    say(f"      accuracy {acc3:.2%} dynamic, {acc3s:.2%} static (activation ranges from 256 training "
        f"samples); float32: {result['accuracy']:.2%}")
    if args.plot:
        written.append(("wrote", plots.weight_histograms(model, pruned, qmodel, args.plot)))

    # 4. distil ---------------------------------------------------------------------------
    s_sizes = [n_in, *STUDENT_HIDDEN, n_out]
    s_epochs = max(2 * args.epochs, 1)
    say(f"\n[4/5] distilling a student {'-'.join(map(str, s_sizes))} from the trained model "
        f"(T={T}, alpha={ALPHA}, {s_epochs} epochs)")
    student = mlp(s_sizes)
    model.eval()

    def kd(out, target, inputs):
        with tn.no_grad():
            t = model(inputs)
        return distill.kd_loss(out, t, target, T=T, alpha=ALPHA)

    fit(student, make_optimizer("sgd", student.parameters(), LR, MOMENTUM), X, y, epochs=s_epochs,
        batch_size=BATCH, loss_fn=kd, desc="distill", quiet=args.quiet)
    acc4 = record(f"distilled student {'-'.join(map(str, s_sizes))}", student, "student.npz")
    say(f"      student accuracy {acc4:.2%}")

    # 5. a convolutional network ------------------------------------------------------------
    cnn_epochs = min(args.cnn_epochs, args.epochs)
    if cnn_epochs:
        _cnn_rows(args, cnn_epochs, X, y, Xt, yt, record, spec)

    # the table ---------------------------------------------------------------------------
    say("\nmeasuring batch-256 latency of every variant (round-robin, median of 50 rounds)")
    latencies = latency_ms([r["model"] for r in rows], n_in, rounds=50, threads=args.latency_threads)
    base = {}
    for r, ms in zip(rows, latencies):
        base.setdefault(r["family"], ms)
    table = [[r["variant"], f"{r['acc']:.2%}", r["params"], f"{r['kb']:.1f}", f"{ms:.3f} ms",
              f"{base[r['family']] / ms:.2f}x"] for r, ms in zip(rows, latencies)]
    say("\n" + format_table(["variant", "test accuracy", "parameters", "size (KB)", "batch-256 latency",
                             "speed-up"], table))
    say("* non-zero parameters; stored densely, so size and latency stay those of the dense model")
    say(f"latency: median of 50 forward passes of a batch of 256, {args.latency_threads} kernel "
        f"thread{'s' if args.latency_threads > 1 else ''}, backend {tn.get_backend()}")
    for verb, f in written:
        say(f"{verb} {f}")
    say(f"demo finished in {time.perf_counter() - started:.1f} s")
    return 0
