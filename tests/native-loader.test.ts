// The loader's order (prebuilt platform package, local build, js) and its loud fallback, run
// on a copy of the compiled package in a temporary folder, where nothing was built.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { platformTriple, prebuiltPackageName } from '../lib/platform.js';
// @ts-expect-error: a plain-JS module without typings (npm runs it before TypeScript is compiled)
import * as installPlatform from '../native/scripts/platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const haveDist = existsSync(join(root, 'dist', 'index.js'));
const localBuild = join(root, 'build', 'Release', 'convkit.node');
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A package root holding dist/ and package.json only, with its runtime dependencies linked. */
function copyOfPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-loader-'));
  dirs.push(dir);
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules'));
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies)) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

function importIn(dir: string, env: NodeJS.ProcessEnv) {
  const script = `const ck = await import('./dist/index.js'); console.log(JSON.stringify(ck.backendInfo().native));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir, encoding: 'utf8',
    env: { ...process.env, CONVKIT_REQUIRE_NATIVE: '', CONVKIT_DISABLE_NATIVE: '', ...env },
  });
  const last = child.stdout.trim().split('\n').pop();
  return { status: child.status, stderr: child.stderr, native: last ? JSON.parse(last) : null };
}

describe('platform package name', () => {
  it('lib/platform.ts and the install script name the same package', () => {
    expect(installPlatform.prebuiltPackageName()).toBe(prebuiltPackageName());
    for (const [platform, arch] of [['linux', 'arm64'], ['darwin', 'arm64'], ['win32', 'x64']]) {
      expect(installPlatform.platformTriple(platform, arch)).toBe(platformTriple(platform, arch));
    }
  });

  it('follows the napi-rs names that npm/ holds', () => {
    expect(platformTriple('darwin', 'x64')).toBe('darwin-x64');
    expect(platformTriple('win32', 'x64')).toBe('win32-x64-msvc');
    expect(platformTriple('linux', 'x64')).toMatch(/^linux-x64-(gnu|musl)$/);
    if (process.platform === 'linux') expect(existsSync(join(root, 'npm', platformTriple(), 'package.json'))).toBe(true);
  });
});

describe.runIf(haveDist)('loader fallback', () => {
  it('falls back to js with one warning that says why and how to fix it', () => {
    const { status, stderr, native } = importIn(copyOfPackage(), {});
    expect(status).toBe(0);
    expect(native.loaded).toBe(false);
    expect(native.error).toContain(`the prebuilt package ${prebuiltPackageName()} is not installed`);
    expect(native.error).toMatch(/build.Release.convkit\.node does not exist/);
    expect(stderr.match(/CONVKIT_NATIVE_FALLBACK/g)).toHaveLength(1);
    expect(stderr).toMatch(/slow js backend/);
    expect(stderr).toMatch(/npm rebuild convkit/);
  });

  it('throws instead under CONVKIT_REQUIRE_NATIVE=1', () => {
    const { status, stderr, native } = importIn(copyOfPackage(), { CONVKIT_REQUIRE_NATIVE: '1' });
    expect(status).not.toBe(0);
    expect(native).toBeNull();
    expect(stderr).toMatch(/Error: convkit: the native addon did not load.*CONVKIT_REQUIRE_NATIVE=1/);
  });

  it('stays quiet when CONVKIT_DISABLE_NATIVE=1 chose js', () => {
    const { status, stderr, native } = importIn(copyOfPackage(), { CONVKIT_DISABLE_NATIVE: '1', CONVKIT_REQUIRE_NATIVE: '1' });
    expect(status).toBe(0);
    expect(native.loaded).toBe(false);
    expect(stderr).not.toMatch(/CONVKIT_NATIVE_FALLBACK/);
  });
});

describe.runIf(haveDist && existsSync(localBuild))('loader order', () => {
  function withPrebuilt(dir: string, file: string): string {
    const pkgDir = join(dir, 'node_modules', prebuiltPackageName());
    const main = `convkit.${platformTriple()}.node`;
    mkdirSync(pkgDir);
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: prebuiltPackageName(), version: '0.0.0', main }));
    copyFileSync(file, join(pkgDir, main));
    return join(pkgDir, main);
  }

  it('loads the prebuilt platform package before a local build, and reports its path', () => {
    const dir = copyOfPackage();
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    copyFileSync(localBuild, join(dir, 'build', 'Release', 'convkit.node'));
    const prebuilt = withPrebuilt(dir, localBuild);
    const { native } = importIn(dir, {});
    expect(native).toMatchObject({ loaded: true, source: 'prebuilt', path: prebuilt });
  });

  it('falls through a prebuilt binary that does not load to the local build', () => {
    const dir = copyOfPackage();
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    copyFileSync(localBuild, join(dir, 'build', 'Release', 'convkit.node'));
    const notABinary = join(dir, 'not-a-binary.node');
    writeFileSync(notABinary, 'not an ELF file');
    withPrebuilt(dir, notABinary);
    const { native, stderr } = importIn(dir, {});
    expect(native).toMatchObject({ loaded: true, source: 'build', path: join(dir, 'build', 'Release', 'convkit.node') });
    expect(stderr).not.toMatch(/CONVKIT_NATIVE_FALLBACK/);
  });
});
