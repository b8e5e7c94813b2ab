"""An LSTM that reads an image row by row and classifies it from its last hidden state."""
import math

from .. import nn


class LSTMClassifier(nn.Module):
    """logits = W h_T + b, where h_T is the last hidden state of an LSTM (Hochreiter & Schmidhuber
    1997) run over the image's rows: an 8x8 digit is a sequence of 8 steps of 8 pixels (the
    row-by-row reading of Le, Jaitly & Hinton 2015, "A Simple Way to Initialize Recurrent Networks").

    forward(x) takes (N, rows * row_size) flat images, (N, rows, row_size) or (N, 1, rows, row_size)
    and returns (N, num_classes) logits. With bidirectional=True the head reads both directions'
    final states, concatenated."""

    def __init__(self, row_size=8, rows=8, hidden_size=64, num_layers=1, num_classes=10, bidirectional=False,
                 dropout=0.0):
        super().__init__()
        self.row_size, self.rows = int(row_size), int(rows)
        self.lstm = nn.LSTM(row_size, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout,
                            bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x):
        if x.ndim not in (2, 3, 4) or math.prod(x.shape[1:]) != self.rows * self.row_size:
            raise ValueError(f"LSTMClassifier: expected {self.rows}x{self.row_size} images, got input shape "
                             f"{tuple(x.shape)}")
        _, (h_n, _) = self.lstm(x.reshape(x.shape[0], self.rows, self.row_size))
        last = h_n[-2:] if self.lstm.bidirectional else h_n[-1:]  # the top layer's final state(s)
        return self.head(last.transpose(0, 1).reshape(x.shape[0], -1))
