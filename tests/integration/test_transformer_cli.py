"""`tinynn train --model transformer` writes a model file whose JSON rebuilds a TransformerClassifier,
which `tinynn evaluate` and `tinynn export` read back."""
import json

import tinynn as tn
from tinynn.cli.main import main
from tinynn.io.modelfile import load_model
from tinynn.models import TransformerClassifier


def test_cli_trains_saves_and_reloads_a_transformer(tmp_path, capsys):
    out = tmp_path / "transformer.npz"
    assert main(["train", "--model", "transformer", "--epochs", "2", "--seed", "1", "--out", str(out),
                 "--no-checkpoint", "--quiet"]) == 0
    arch = json.loads(tn.load(out)["tinynn_model"])
    assert arch["arch"] == "transformer" and arch["input_shape"] == [1, 8, 8]
    assert (arch["input_dim"], arch["seq_len"], arch["num_classes"]) == (8, 8, 10)
    model, _ = load_model(out)
    assert isinstance(model, TransformerClassifier)
    _, _, X_test, y_test = tn.datasets.load_digits()
    with tn.no_grad():
        accuracy = float((model(tn.tensor(X_test)).argmax(dim=1).numpy() == y_test).mean())
    assert accuracy == arch["trained"]["test_accuracy"] and accuracy > 0.3  # 2 epochs of the recipe: ~60-80%
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    assert f"{accuracy:.2%}" in capsys.readouterr().out
