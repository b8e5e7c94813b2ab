"""`tinynn train --model transformer` writes a model file whose JSON rebuilds a TransformerClassifier,
which `tinynn evaluate` and `tinynn export` read back."""
import json

import tinynn as tn
from tinynn.cli.main import main
from tinynn.models import TransformerClassifier
from helpers.model_files import reloads_with_recorded_accuracy


def test_cli_trains_saves_and_reloads_a_transformer(tmp_path, capsys):
    out = tmp_path / "transformer.npz"
    assert main(["train", "--model", "transformer", "--epochs", "2", "--seed", "1", "--out", str(out),
                 "--no-checkpoint", "--quiet"]) == 0
    arch = json.loads(tn.load(out)["tinynn_model"])
    assert arch["arch"] == "transformer" and arch["input_shape"] == [1, 8, 8]
    assert (arch["input_dim"], arch["seq_len"], arch["num_classes"]) == (8, 8, 10)
    assert reloads_with_recorded_accuracy(out, TransformerClassifier, arch, capsys) > 0.3  # 2 epochs: ~60-80%
