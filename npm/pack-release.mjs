// `npm run pack:release`: builds the addon and writes two tarballs into pack/: the main package,
// whose optionalDependencies name the platform packages that have a binary (as `napi
// pre-publish` would write them), and this machine's platform package (convkit-linux-x64-gnu),
// laid out by `napi create-npm-dirs` in npm/<platform>/.
// CONVKIT_CUDA=ON|OFF|AUTO is passed to CMake as in the install script.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { platformTriple } from '../native/scripts/platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packDir = join(root, 'pack');
const require = createRequire(import.meta.url);
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
const npmPack = (cwd) => execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd, encoding: 'utf8' }).trim().split('\n').pop();
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

const triple = platformTriple();
const platformDir = join(root, 'npm', triple);
if (!existsSync(join(platformDir, 'package.json'))) {
  throw new Error(`pack:release: npm/${triple} does not exist; add this platform to package.json's napi.targets and run npx napi create-npm-dirs`);
}

// 1. The addon, as the install script builds it (incremental after `npm install`).
const cmakeArgs = [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--log-level', 'warn'];
if (process.env.CONVKIT_CUDA) cmakeArgs.push(`--CDCONVKIT_CUDA=${process.env.CONVKIT_CUDA}`);
run(process.execPath, cmakeArgs);

// 2. The platform package: the binary under the name napi-rs gives it, versions kept in step.
run(process.execPath, [require.resolve('@napi-rs/cli/package.json').replace(/package\.json$/, 'dist/cli.js'), 'version']);
copyFileSync(join(root, 'build', 'Release', 'convkit.node'), join(platformDir, `convkit.${triple}.node`));
rmSync(packDir, { recursive: true, force: true });
mkdirSync(packDir);
const platformTarball = npmPack(platformDir);

// 3. The main package (npm pack runs prepare, which compiles dist/), then its manifest gains
// optionalDependencies on every platform package that has a binary now.
const mainTarball = npmPack(root);
const version = readJson(join(root, 'package.json')).version;
const optionalDependencies = {};
for (const dir of readdirSync(join(root, 'npm'), { withFileTypes: true })) {
  if (!dir.isDirectory()) continue;
  const pkgDir = join(root, 'npm', dir.name);
  const pkg = readJson(join(pkgDir, 'package.json'));
  if (existsSync(join(pkgDir, pkg.main))) optionalDependencies[pkg.name] = version;
}
const staging = mkdtempSync(join(tmpdir(), 'convkit-pack-'));
try {
  run('tar', ['-xzf', join(packDir, mainTarball), '-C', staging]);
  const manifestPath = join(staging, 'package', 'package.json');
  writeFileSync(manifestPath, JSON.stringify({ ...readJson(manifestPath), optionalDependencies }, null, 2) + '\n');
  run('tar', ['-czf', join(packDir, mainTarball), '-C', staging, 'package']);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
console.log(`pack:release: pack/${mainTarball} (optionalDependencies: ${Object.keys(optionalDependencies).join(', ')}), pack/${platformTarball}`);
