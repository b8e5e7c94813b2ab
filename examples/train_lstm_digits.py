"""An LSTM reads each 8x8 digit row by row (8 steps of 8 pixels) and classifies it from its last
hidden state: hidden 64, Adam(lr=0.01) with a cosine schedule over 12 epochs, batch 32.

    python examples/train_lstm_digits.py [seed ...]

Prints the test accuracy and training time for each seed (default: seeds 0, 1, 2) and their median.
"""
import sys
import time

import numpy as np

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn.data import DataLoader, TensorDataset
from tinynn.datasets import load_digits
from tinynn.models import LSTMClassifier
from tinynn.train import evaluate


def train(seed, hidden_size=64, epochs=12, lr=0.01, batch_size=32):
    """Train from seed; returns the test accuracy."""
    tn.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_digits()
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    model = LSTMClassifier(row_size=8, rows=8, hidden_size=hidden_size)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            criterion(model(images), labels).backward()
            optimizer.step()
        schedule.step()
    model.eval()
    return evaluate(model, X_test, y_test)["accuracy"]  # the share of test digits whose top logit is right


if __name__ == "__main__":
    seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2]
    accuracies = []
    for seed in seeds:
        start = time.perf_counter()
        accuracies.append(train(seed))
        print(f"seed {seed}: test accuracy {accuracies[-1]:.2%} in {time.perf_counter() - start:.1f} s", flush=True)
    print(f"median test accuracy: {np.median(accuracies):.2%}")
