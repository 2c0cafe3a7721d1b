#!/usr/bin/env bash
# The GPU checks of issue 5, for the device machine (nvcc, cmake, PyTorch; no Node): build the
# CUDA kernels for the local GPU, run every C++ CUDA-vs-CPU test, then the convkit and PyTorch
# benchmarks side by side in one command. From the repo root: bash bench/gpu/run.sh [mnist-dir]
set -euo pipefail
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=native >/dev/null
cmake --build build-gpu -j"$(nproc)"
ctest --test-dir build-gpu --output-on-failure
./build-gpu/bench_cuda
python3 bench/gpu/torch_reference.py "$@"
