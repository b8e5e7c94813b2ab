"""Model compression: pruning (`prune`), int8 quantization (`quantize`) and knowledge
distillation (`distill`). Reached as `tinynn.prune`, `tinynn.quantize`, `tinynn.distill`."""
