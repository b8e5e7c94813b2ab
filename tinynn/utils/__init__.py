"""torch.utils's place in tinynn: `tinynn.utils.data` is `tinynn.data` (loaded on first use, so
`import tinynn` stays cheap), `checkpoint` is torch.utils.checkpoint (also loaded on first use), and
`grads` reads gradients whatever their type."""


def __getattr__(name):
    if name in ("data", "checkpoint"):  # checkpoint.py: torch.utils.checkpoint
        import importlib

        return importlib.import_module(f"tinynn.utils.{name}")
    raise AttributeError(f"module 'tinynn.utils' has no attribute {name!r}")
