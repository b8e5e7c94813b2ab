"""What every `tinynn train --model NAME` test checks of the file it wrote: the model rebuilt from the
file's JSON alone is of the expected class, its test accuracy on the digits is the one recorded in
the file, and `tinynn evaluate` prints that same accuracy."""
import tinynn as tn
from tinynn.cli.main import main
from tinynn.io.modelfile import load_model


def reloads_with_recorded_accuracy(path, cls, arch, capsys):
    """Asserts the above for the model file at `path` (its parsed JSON is `arch`); returns the accuracy."""
    model, _ = load_model(path)
    assert isinstance(model, cls)
    _, _, X_test, y_test = tn.datasets.load_digits()
    with tn.no_grad():
        accuracy = float((model(tn.tensor(X_test)).argmax(dim=1).numpy() == y_test).mean())
    assert accuracy == arch["trained"]["test_accuracy"]
    capsys.readouterr()
    assert main(["evaluate", str(path)]) == 0
    assert f"{accuracy:.2%}" in capsys.readouterr().out
    return accuracy
