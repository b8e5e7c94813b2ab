"""An encoder-only Transformer that classifies a sequence (or an image cut into rows or patches)."""
import numpy as np

from .. import nn
from ..ops import cat
from ..tensor import Tensor


class TransformerClassifier(nn.Module):
    """Encoder-only Transformer classifier, BERT style (Devlin et al., 2019, "BERT: Pre-training of
    Deep Bidirectional Transformers for Language Understanding": a learned [CLS] token whose final
    state is classified) on vector tokens as in ViT (Dosovitskiy et al., 2021, "An Image is Worth
    16x16 Words"): each input row of `input_dim` features is a token.

    z_0 = [cls; x W_e^T + b_e] + pos;  z = TransformerEncoder(pre-norm layers)(z_0);
    logits = head(LayerNorm(z[:, 0])).

    x is (N, seq_len, input_dim), or anything with seq_len * input_dim features per sample
    (the 8x8 digits as (N, 64) are 8 rows of 8 pixels)."""

    def __init__(self, input_dim=8, seq_len=8, num_classes=10, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=128, dropout=0.1):
        super().__init__()
        self.input_dim, self.seq_len, self.num_classes = int(input_dim), int(seq_len), int(num_classes)
        self.d_model, self.nhead, self.num_layers = int(d_model), int(nhead), int(num_layers)
        self.dim_feedforward, self.dropout = int(dim_feedforward), dropout
        self.embed = nn.Linear(input_dim, d_model)
        self.cls_token = nn.Parameter(np.zeros((1, 1, d_model), np.float32))
        self.pos_embed = nn.Parameter(np.zeros((1, seq_len + 1, d_model), np.float32))
        nn.init.normal_(self.cls_token, 0.0, 0.02)
        nn.init.normal_(self.pos_embed, 0.0, 0.02)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def config(self):
        """The constructor's arguments, as a dict (what a model file records)."""
        return {"input_dim": self.input_dim, "seq_len": self.seq_len, "num_classes": self.num_classes,
                "d_model": self.d_model, "nhead": self.nhead, "num_layers": self.num_layers,
                "dim_feedforward": self.dim_feedforward, "dropout": self.dropout}

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, np.float32))
        n = x.shape[0]
        if int(np.prod(x.shape[1:])) != self.seq_len * self.input_dim:
            raise ValueError(f"TransformerClassifier: each sample needs seq_len * input_dim = "
                             f"{self.seq_len} * {self.input_dim} values, got shape {tuple(x.shape)}")
        tokens = self.embed(x.reshape(n, self.seq_len, self.input_dim))
        z = nn.functional._tensor(self.cls_token).expand(n, 1, self.d_model)
        z = cat([z, tokens], dim=1) + self.pos_embed
        z = self.encoder(z)
        return self.head(self.norm(z[:, 0]))
