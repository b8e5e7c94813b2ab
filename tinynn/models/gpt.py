"""GPT: a decoder-only Transformer language model, small enough to read in one sitting."""
import math

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn import functional as F
from ..random import generator
from ..tensor import Tensor


class CausalSelfAttention(nn.Module):
    """Masked multi-head self-attention: q, k, v = split(x W_attn + b_attn), each head
    softmax(q k^T / sqrt(d) with key j > query i masked) v, heads concatenated, then c_proj.
    GPT-2's names (c_attn, c_proj) for its parameters."""

    def __init__(self, n_embd, n_head, dropout=0.0):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"GPT: n_embd {n_embd} must be divisible by n_head {n_head}")
        self.n_head, self.dropout = n_head, dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, c = x.shape
        h = self.n_head
        qkv = self.c_attn(x).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)  # (3, B, h, T, d)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(b, t, c)))


class Block(nn.Module):
    """One pre-norm decoder block: x = x + attn(ln_1(x));  x = x + mlp(ln_2(x)),
    mlp(x) = dropout(W_2 GELU(W_1 x + b_1) + b_2) with a hidden width of 4 n_embd and GPT-2's
    tanh form of GELU."""

    def __init__(self, n_embd, n_head, dropout=0.0):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"), nn.Linear(4 * n_embd, n_embd),
                                 nn.Dropout(dropout))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only Transformer language model: GPT (Radford et al., 2018, "Improving Language
    Understanding by Generative Pre-Training") with GPT-2's pre-norm blocks and final LayerNorm
    (Radford et al., 2019, "Language Models are Unsupervised Multitask Learners").

    logits = ln_f(Block_{n_layer}(... Block_1(drop(wte[idx] + wpe[0..T-1])))) W_head^T, causal
    throughout, so position t predicts token t + 1 from tokens 0..t. Weights start as GPT-2's:
    N(0, 0.02), residual projections N(0, 0.02 / sqrt(2 n_layer)), biases 0.

    forward(idx) -> logits (B, T, vocab_size); forward(idx, targets) -> (logits, loss), the mean
    cross-entropy over the positions whose target is >= 0 (a negative target, such as minGPT's
    -1, marks a position that is not scored)."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("block_size", block_size), ("n_layer", n_layer),
                            ("n_head", n_head), ("n_embd", n_embd)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"GPT: {name} must be a positive int, got {value!r}")
        self.vocab_size, self.block_size, self.n_layer, self.n_head, self.n_embd = (
            int(vocab_size), int(block_size), int(n_layer), int(n_head), int(n_embd))
        self.dropout = dropout
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self._init_weights()

    def config(self):
        """The constructor's arguments, as a dict (what a model file records)."""
        return {"vocab_size": self.vocab_size, "block_size": self.block_size, "n_layer": self.n_layer,
                "n_head": self.n_head, "n_embd": self.n_embd, "dropout": self.dropout}

    def _init_weights(self):
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif name.startswith("ln_f") or ".ln_" in name:
                nn.init.ones_(p)
            else:
                residual = name.endswith("attn.c_proj.weight") or name.endswith("mlp.2.weight")
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.n_layer) if residual else 0.02)

    def forward(self, idx, targets=None):
        idx = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
        if idx.ndim != 2:
            raise ValueError(f"GPT: idx must be (batch, time) token ids, got shape {idx.shape}")
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"GPT: a sequence of length {t} is longer than the model's context "
                             f"block_size={self.block_size}")
        x = self.drop(self.wte(idx) + self.wpe(np.arange(t)))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits
        targets = (targets._data if isinstance(targets, Tensor) else np.asarray(targets)).reshape(-1)
        scored = np.flatnonzero(targets >= 0)
        flat = logits.reshape(-1, self.vocab_size)
        if len(scored) < len(targets):
            flat = flat[scored]
        return logits, F.cross_entropy(flat, Tensor._wrap(targets[scored].astype(np.int64), False))

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Append max_new_tokens tokens to idx (B, T), each drawn from softmax(logits / temperature)
        of the last position (over the top_k most likely tokens only, if given: top_k=1 is greedy),
        feeding the last block_size tokens back in. Returns the longer (B, T + max_new_tokens) ids."""
        if temperature <= 0:
            raise ValueError(f"GPT.generate: temperature must be > 0, got {temperature}")
        idx = np.array(idx._data if isinstance(idx, Tensor) else idx, dtype=np.int64)
        rng = generator()
        with no_grad():
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.block_size:]).numpy()[:, -1, :].astype(np.float64) / temperature
                if top_k is not None:
                    kth = np.sort(logits, axis=-1)[:, -min(int(top_k), logits.shape[-1])][:, None]
                    logits = np.where(logits < kth, -np.inf, logits)
                if top_k == 1:
                    nxt = np.argmax(logits, axis=-1)
                else:
                    p = np.exp(logits - logits.max(-1, keepdims=True))
                    p /= p.sum(-1, keepdims=True)
                    nxt = np.array([rng.choice(len(row), p=row) for row in p])
                idx = np.concatenate([idx, nxt[:, None]], axis=1)
        return Tensor._wrap(idx, False)
