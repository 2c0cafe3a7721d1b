// The name of the prebuilt-binary package for this machine, as @napi-rs/cli names them
// (convkit-linux-x64-gnu, convkit-darwin-arm64, ...). native/scripts/platform.mjs says the
// same for the install script, which runs before this file is compiled; a test keeps them equal.
import { readFileSync } from 'node:fs';

/** The napi-rs platform suffix: platform-arch, plus the C library on Linux and the ABI on Windows. */
export function platformTriple(platform: string = process.platform, arch: string = process.arch): string {
  if (platform === 'linux') return `linux-${arch}-${linuxLibc()}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The package that holds the prebuilt addon for this machine. */
export function prebuiltPackageName(): string {
  return `convkit-${platformTriple()}`;
}

// ldd's script names musl on Alpine (the cheap test napi-rs's loaders use); without ldd,
// process.report's header (~10 ms to build) names the glibc version.
function linuxLibc(): 'gnu' | 'musl' {
  try {
    return readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'gnu';
  } catch {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
  }
}
