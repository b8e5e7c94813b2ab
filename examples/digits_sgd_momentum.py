"""The seed network with SGD(lr=0.05, momentum=0.9), batch 64, 30 epochs on the embedded digits.

    python examples/digits_sgd_momentum.py [seed ...]

Prints the test accuracy for each seed (default: seeds 0..4) and their median.
"""
import sys
import time

import numpy as np

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.optim as optim
from tinynn.data import DataLoader, TensorDataset
from tinynn.datasets import load_digits


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def train(seed, epochs=30, batch_size=64, lr=0.05, momentum=0.9):
    """Train from seed; returns the test accuracy."""
    tn.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_digits()
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    for _ in range(epochs):
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
    with tn.no_grad():
        predicted = net(tn.tensor(X_test)).argmax(dim=1).numpy()
    return float((predicted == y_test).mean())


if __name__ == "__main__":
    seeds = [int(s) for s in sys.argv[1:]] or list(range(5))
    accs = []
    for seed in seeds:
        start = time.perf_counter()
        accs.append(train(seed))
        print(f"seed {seed}: test accuracy {accs[-1]:.4f}  ({time.perf_counter() - start:.2f} s)")
    print(f"median test accuracy over {len(seeds)} seeds: {np.median(accs):.4f} (min {min(accs):.4f}, max {max(accs):.4f})")
