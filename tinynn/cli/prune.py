"""`tinynn prune`: magnitude pruning + fine-tuning: unstructured weights, or whole neurons (by L2
norm; the layers are then shrunk to a smaller dense network)."""
from pathlib import Path

from ..train import count_params, evaluate, fit, format_table, make_optimizer
from .common import add_common, derived_spec, fraction, nonneg_int, open_model, positive_float, positive_int


def add_parser(sub):
    pr = sub.add_parser("prune", help="magnitude pruning + fine-tuning", description=__doc__)
    pr.add_argument("model", help="model .npz written by tinynn")
    add_common(pr)
    pr.add_argument("--amount", type=fraction, default=0.8, help="fraction of weights (or neurons) to remove (default 0.8)")
    pr.add_argument("--scope", choices=("layer", "global"), default="global", help="rank weights per layer or over all layers (default global)")
    pr.add_argument("--structured", action="store_true", help="remove whole neurons (by L2 norm) and shrink the layers")
    pr.add_argument("--finetune-epochs", type=nonneg_int, default=5, help="epochs of fine-tuning after pruning (default 5)")
    pr.add_argument("--lr", type=positive_float, default=0.01, help="fine-tuning learning rate (default 0.01)")
    pr.add_argument("--batch-size", type=positive_int, default=32, help="(default 32)")
    pr.add_argument("--out", default="pruned.npz", help="(default pruned.npz)")
    pr.set_defaults(func=run)


def run(args):
    from ..compress import prune
    from ..io.modelfile import describe, linear_sizes, save_model

    model, spec, (X, y, Xt, yt) = open_model(args, args.model, float_only=True)
    before = evaluate(model, Xt, yt)["accuracy"]
    n_before = count_params(model)
    prune.magnitude(model, args.amount, scope=args.scope, structured=args.structured)
    pruned_acc = evaluate(model, Xt, yt)["accuracy"]
    if args.finetune_epochs:
        fit(model, make_optimizer("sgd", model.parameters(), args.lr), X, y, epochs=args.finetune_epochs,
            batch_size=args.batch_size, desc="fine-tune", quiet=args.quiet)
    sparsity = prune.sparsity(model)
    prune.remove(model)
    if args.structured:
        model = prune.shrink(model)
    model.eval()
    after = evaluate(model, Xt, yt)["accuracy"]
    shape = {"sizes": linear_sizes(model)} if spec.get("arch", "mlp") == "mlp" else {}
    save_model(model, args.out, derived_spec(spec, args, **shape, pruned={
        "amount": args.amount, "scope": args.scope, "structured": args.structured, "sparsity": sparsity,
        "finetune_epochs": args.finetune_epochs}), compress=True)
    nonzero = count_params(model, nonzero=True)
    after_arch = describe({**spec, **shape}) + (" (shrunk)" if args.structured and not shape else "")
    rows = [["before", describe(spec), f"{before:.2%}", f"{n_before:,}", "0.0%"],
            ["pruned", describe(spec), f"{pruned_acc:.2%}", "", f"{sparsity:.1%}"],
            [f"fine-tuned{' + shrunk' if args.structured else ''}", after_arch, f"{after:.2%}",
             f"{nonzero:,}", f"{1 - nonzero / n_before:.1%}"]]
    print(format_table(["model", "architecture", "test accuracy", "non-zero params", "pruned"], rows))
    print(f"saved {args.out} ({Path(args.out).stat().st_size / 1024:.1f} KB on disk, compressed)")
    return 0
