"""The seed example of issue 3, run on tinynn with only the imports changed.

    python examples/seed_mlp.py            # 10 epochs, as written
    SEED_MLP_EPOCHS=2 python examples/seed_mlp.py

The network, loss, optimizer and training loop are PyTorch's tutorial code verbatim;
the data are tinynn's embedded 8x8 digits (input size 64 instead of 784).
"""
import os

import tinynn as torch
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.optim as optim
from tinynn.data import DataLoader, TensorDataset
from tinynn.datasets import load_digits

torch.manual_seed(0)
X_train, y_train, X_test, y_test = load_digits()
trainloader = DataLoader(TensorDataset(X_train, y_train), batch_size=4, shuffle=True)
EPOCHS = int(os.environ.get("SEED_MLP_EPOCHS", "10"))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01)
for epoch in range(EPOCHS):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f'Epoch {epoch + 1}, loss: {running_loss / len(trainloader)}')

with torch.no_grad():
    accuracy = (net(torch.tensor(X_test)).argmax(dim=1) == torch.tensor(y_test)).numpy().mean()
print(f"test accuracy: {accuracy:.4f}")
