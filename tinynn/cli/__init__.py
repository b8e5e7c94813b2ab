"""The `tinynn` command: `main` parses and dispatches, one module per command, `common` below them."""
