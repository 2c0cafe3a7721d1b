"""PyTorch's side of `npm run bench -- torch`: LeNet-5 training on MNIST on the CPU with
convkit's recipe (32x32 inputs normalised as data.mnist('train', { pad: 2 }), batch 64,
SGD lr 0.05 momentum 0.9, a fresh shuffle each epoch, batches gathered from host memory).

It stays loaded between epochs so that node can alternate epoch by epoch with convkit's
fit() in one run. The first output line is {"ready": ...} or {"error": ...}; then each
stdin line `epoch` trains one epoch and answers one JSON line
{"seconds", "images_per_second", "loss"}; `quit` or end of input ends it.
usage: python3 bench/torch_lenet_cpu.py MNIST_DATA_DIR THREADS SEED [LIMIT]
(LIMIT: train on the first LIMIT images only, as data.mnist's limit option)
"""
import json
import os
import sys
import time

MEAN, STD = 0.1307, 0.3081  # convkit's MNIST_MEAN / MNIST_STD


def say(obj):
    print(json.dumps(obj), flush=True)


def read_idx(torch, path, offset):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()[offset:]), dtype=torch.uint8)


def main():
    data_dir, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError as e:
        say({"error": f"{e} (apt-get install python3-torch)"})
        return
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    images = read_idx(torch, os.path.join(data_dir, "train-images-idx3-ubyte"), 16).view(-1, 1, 28, 28).float() / 255
    labels = read_idx(torch, os.path.join(data_dir, "train-labels-idx1-ubyte"), 8).long()
    images, labels = images[:limit], labels[:limit]
    # convkit pads the raw pixels before normalising, so the border is a normalised black pixel.
    images = F.pad((images - MEAN) / STD, (2, 2, 2, 2), value=-MEAN / STD).contiguous()
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    # Debian's torch reaches OpenBLAS (pthreads) for its GEMMs beside its OpenMP threads; the
    # OPENBLAS_* variables this process runs with are reported next to its figures.
    say({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
         "env": " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(("OPENBLAS_", "OMP_")))})

    def epoch():
        n = len(labels)
        perm = torch.randperm(n)
        total = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)  # convkit drops gradients, as PyTorch 2
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "images_per_second": n / seconds, "loss": total / n}

    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        say(epoch() if command == "epoch" else {"error": f"unknown command {command!r}"})


if __name__ == "__main__":
    main()
