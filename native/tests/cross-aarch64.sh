#!/usr/bin/env bash
# Builds the kernel core and its C++ tests for aarch64 (the scalar kernels; the AVX files are
# x86-only) and runs the ctest suites under qemu-user. Needs Debian's g++-aarch64-linux-gnu and
# qemu-user (apt-get install -y g++-aarch64-linux-gnu qemu-user). No Node, no CUDA: the addon
# itself is built by cmake-js on the target machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "cross-aarch64: $tool not found (apt-get install -y g++-aarch64-linux-gnu qemu-user)" >&2; exit 1; }
done
build=build-aarch64
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=native/tests/aarch64-toolchain.cmake \
  -DCONVKIT_CUDA=OFF -DCONVKIT_BUILD_TESTS=ON -DCONVKIT_BUILD_BENCH=OFF
cmake --build "$build" -j "${CONVKIT_JOBS:-2}"
aarch64-linux-gnu-readelf -h "$build/test_gemm" | grep -q AArch64 || { echo "cross-aarch64: test_gemm is not an aarch64 binary" >&2; exit 1; }
# qemu runs each test ~10-50x slower than native; the timeout is per test.
ctest --test-dir "$build" --output-on-failure --timeout 1800
