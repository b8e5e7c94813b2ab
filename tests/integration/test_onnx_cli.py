"""`tinynn export` end to end on the model files `tinynn train --model lenet | resnet | lstm` writes
(one short epoch each): the file passes onnx.checker, --verify reports onnxruntime's outputs equal
to tinynn's on the test set, and the file read back here agrees with the model file's model."""
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

from tinynn.cli.main import main  # noqa: E402
from tinynn.datasets import load_digits  # noqa: E402
from tinynn.io.modelfile import load_model  # noqa: E402
from test_onnx import close_float, ours, run_ort  # noqa: E402

TRAIN = {"lenet": [], "resnet": ["--channels", "4,8"], "lstm": ["--hidden", "8"]}


@pytest.mark.parametrize("arch", TRAIN)
def test_export_of_a_trained_model_file_verifies(arch, tmp_path, capsys):
    model_file, out = tmp_path / f"{arch}.npz", tmp_path / f"{arch}.onnx"
    assert main(["train", "--model", arch, "--epochs", "1", "--out", str(model_file), "--no-checkpoint", "-q",
                 *TRAIN[arch]]) == 0
    capsys.readouterr()
    extra = ["--fold-batchnorm"] if arch == "resnet" else []
    assert main(["export", str(model_file), str(out), "--verify", *extra]) == 0
    text = capsys.readouterr().out
    assert "(batch, 10)" in text and "same predictions" in text and "100.00%" in text
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    ops = {n.op_type for n in proto.graph.node}
    assert {"lenet": "Conv", "resnet": "Conv", "lstm": "LSTM"}[arch] in ops
    assert "BatchNormalization" not in ops  # resnet's folded into its convolutions
    model, _ = load_model(model_file)
    X_test = load_digits()[2][:50]
    close_float(run_ort(out, X_test), ours(model, X_test))
    if arch == "lenet":  # and its int8 model: ConvInteger, the same outputs
        int8_file, int8_out = tmp_path / "int8.npz", tmp_path / "int8.onnx"
        assert main(["quantize", str(model_file), "--out", str(int8_file), "-q"]) == 0
        capsys.readouterr()
        assert main(["export", str(int8_file), str(int8_out), "--verify"]) == 0
        assert "100.00%" in capsys.readouterr().out
        assert "ConvInteger" in {n.op_type for n in onnx.load(str(int8_out)).graph.node}
