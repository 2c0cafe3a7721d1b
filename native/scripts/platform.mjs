// The prebuilt-binary package for this machine (convkit-linux-x64-gnu, ...), as lib/platform.ts
// names it. Plain JS because npm runs the install script before TypeScript is compiled; a test
// keeps the two equal.
import { readFileSync } from 'node:fs';

/** The napi-rs platform suffix: platform-arch, plus the C library on Linux and the ABI on Windows. */
export function platformTriple(platform = process.platform, arch = process.arch) {
  if (platform === 'linux') return `linux-${arch}-${linuxLibc()}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

export function prebuiltPackageName() {
  return `convkit-${platformTriple()}`;
}

// ldd's script names musl on Alpine; without ldd, process.report's header names glibc.
function linuxLibc() {
  try {
    return readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'gnu';
  } catch {
    return process.report?.getReport()?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
  }
}
