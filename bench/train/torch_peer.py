#!/usr/bin/python3
"""The reference network in PyTorch (Debian python3-torch), same data and settings as bench_train:
Dense(64, relu) > BatchNorm(momentum 0.99 in Keras terms = 0.01 in PyTorch's, eps 1e-3) > Dropout(0.2) >
Dense(32, relu) > BatchNorm > Dropout(0.2) > Dense(H); He-uniform weights, zero biases; Adam(lr 1e-3,
eps 1e-7); MSE; batch 32, shuffled each epoch; 100 epochs; 2 threads.
Usage: torch_peer.py MATRICES_FILE [EPOCHS] [THREADS]   (the file bench_train --export writes; THREADS
defaults to 2, the reference setting; 1 shows what PyTorch costs without OpenMP spinning on a machine
whose cores are all busy)"""
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

path = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 100
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(threads)
torch.manual_seed(42)
with open(path, "rb") as f:
    n_train, n_val, n_in, n_out = struct.unpack("<4q", f.read(32))
    def take(n):
        return torch.from_numpy(np.frombuffer(f.read(4 * n), dtype="<f4").copy())
    x_train = take(n_train * n_in).reshape(n_train, n_in)
    y_train = take(n_train * n_out).reshape(n_train, n_out)
    x_val = take(n_val * n_in).reshape(n_val, n_in)
    y_val = take(n_val * n_out).reshape(n_val, n_out)

model = nn.Sequential(
    nn.Linear(n_in, 64), nn.ReLU(), nn.BatchNorm1d(64, momentum=0.01, eps=1e-3), nn.Dropout(0.2),
    nn.Linear(64, 32), nn.ReLU(), nn.BatchNorm1d(32, momentum=0.01, eps=1e-3), nn.Dropout(0.2),
    nn.Linear(32, n_out))
for m in model:
    if isinstance(m, nn.Linear):
        nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
loss_fn = nn.MSELoss()
start, cpu_start = time.perf_counter(), time.process_time()
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(n_train)
    for i in range(0, n_train, 32):
        idx = perm[i:i + 32]
        opt.zero_grad()
        loss = loss_fn(model(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val_loss = loss_fn(model(x_val), y_val).item()
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
print(f"pytorch: seconds={seconds:.3f} cpu_seconds={cpu:.3f} epochs={epochs} final_val_loss={val_loss:.6g} "
      f"threads={threads} torch={torch.__version__}")
