"""`tinynn distill`: train a small student to match a teacher's softened outputs (knowledge
distillation, Hinton et al. 2015: soft targets at temperature T, weighted by alpha)."""
from ..train import count_params, evaluate, fit, format_table, make_optimizer
from .common import (add_common, add_training, data_spec, int_list, open_model, positive_float,
                     unit_interval)


def add_parser(sub):
    ds = sub.add_parser("distill", help="knowledge distillation into a small student", description=__doc__)
    ds.add_argument("teacher", help="teacher model .npz written by tinynn")
    add_common(ds)
    add_training(ds, epochs=30)
    ds.add_argument("--hidden", type=int_list, default=[32], help="student hidden sizes (default 32)")
    ds.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu")
    ds.add_argument("--temperature", "-T", type=positive_float, default=4.0, help="softmax temperature T (default 4)")
    ds.add_argument("--alpha", type=unit_interval, default=0.9, help="weight of the distillation term (default 0.9)")
    ds.add_argument("--out", default="student.npz", help="(default student.npz)")
    ds.set_defaults(func=run)


def run(args):
    from .. import no_grad
    from ..compress import distill
    from ..io.modelfile import describe, input_features, mlp, num_outputs, save_model

    teacher, spec, (X, y, Xt, yt) = open_model(args, args.teacher)
    sizes = [input_features(spec), *args.hidden, num_outputs(spec)]  # the teacher may be an image model
    student = mlp(sizes, args.activation)
    teacher.eval()
    opt = make_optimizer(args.optimizer, student.parameters(), args.lr, args.momentum, args.weight_decay)

    def kd(out, target, inputs):
        with no_grad():
            t = teacher(inputs)
        return distill.kd_loss(out, t, target, T=args.temperature, alpha=args.alpha)

    fit(student, opt, X, y, epochs=args.epochs, batch_size=args.batch_size, loss_fn=kd, eval_data=(Xt, yt),
        desc="distill", quiet=args.quiet)
    t_acc, s_acc = evaluate(teacher, Xt, yt)["accuracy"], evaluate(student, Xt, yt)["accuracy"]
    save_model(student, args.out, {"sizes": sizes, "activation": args.activation, **data_spec(args),
                              "distilled": {"teacher": str(args.teacher), "T": args.temperature, "alpha": args.alpha,
                                            "epochs": args.epochs, "test_accuracy": s_acc}})
    print(format_table(["model", "architecture", "test accuracy", "parameters"],
                       [["teacher", describe(spec), f"{t_acc:.2%}", f"{count_params(teacher):,}"],
                        ["student", "-".join(map(str, sizes)), f"{s_acc:.2%}", f"{count_params(student):,}"]]))
    print(f"saved {args.out}")
    return 0
