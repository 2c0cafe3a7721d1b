// npm's install hook. A prebuilt platform package that loads is used as it is; otherwise the
// addon is built from source with cmake-js. A failed build does not fail the install (convkit
// then warns at import and runs on js) unless CONVKIT_REQUIRE_NATIVE=1.
// CONVKIT_CUDA=ON|OFF|AUTO is passed to CMake (AUTO: CUDA only where a driver is found).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { prebuiltPackageName } from './platform.mjs';

const require = createRequire(import.meta.url);

function prebuiltLoads() {
  const name = prebuiltPackageName();
  try {
    require(name);
    console.log(`convkit: using the prebuilt binary from ${name}`);
    return true;
  } catch (err) {
    if (err?.code !== 'MODULE_NOT_FOUND') console.warn(`convkit: ${name} did not load (${err?.message}); building from source`);
    return false;
  }
}

function buildFromSource() {
  const args = [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--log-level', 'warn'];
  if (process.env.CONVKIT_CUDA) args.push(`--CDCONVKIT_CUDA=${process.env.CONVKIT_CUDA}`);
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  return result.status === 0;
}

if (!prebuiltLoads() && !buildFromSource()) {
  const why = 'convkit: the native addon did not build; convkit will warn at import and run on the slow js backend';
  if (process.env.CONVKIT_REQUIRE_NATIVE === '1') {
    console.error(`${why} (failing the install: CONVKIT_REQUIRE_NATIVE=1)`);
    process.exit(1);
  }
  console.warn(why);
}
