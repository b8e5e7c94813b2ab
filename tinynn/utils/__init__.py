"""torch.utils's place in tinynn: `tinynn.utils.data` is `tinynn.data` (loaded on first use, so
`import tinynn` stays cheap), and `grads` reads gradients whatever their type."""


def __getattr__(name):
    if name == "data":
        import importlib

        return importlib.import_module("tinynn.utils.data")
    raise AttributeError(f"module 'tinynn.utils' has no attribute {name!r}")
