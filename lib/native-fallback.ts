// What convkit says when the addon does not load. npm hides the output of install scripts that
// succeed, so a failed build is only noticed here: one warning at import, naming why and the
// fix, or an error under CONVKIT_REQUIRE_NATIVE=1 (CI, and servers that must not run slow).
import type { NativeLoadResult } from './native.js';
import { prebuiltPackageName } from './platform.js';

/** The warning's code, for process.on('warning') filters. */
export const NATIVE_FALLBACK_CODE = 'CONVKIT_NATIVE_FALLBACK';

export function fallbackMessage(error: string): string {
  return (
    `convkit: the native addon did not load, so every op runs on the slow js backend. ` +
    `Why: ${error}. ` +
    `Fix: install the prebuilt binary (npm install ${prebuiltPackageName()}, where one is published), ` +
    `or rebuild from source with a C++17 compiler and CMake >= 3.18 on PATH (npm rebuild convkit --foreground-scripts shows the build). ` +
    `CONVKIT_DISABLE_NATIVE=1 chooses js and silences this; CONVKIT_REQUIRE_NATIVE=1 makes it an error.`
  );
}

/** Throws under CONVKIT_REQUIRE_NATIVE=1, else emits the warning; nothing when the addon loaded or js was chosen. */
export function reportNativeFallback(native: NativeLoadResult): void {
  if (native.addon || native.disabled) return;
  const message = fallbackMessage(native.error ?? 'unknown');
  if (process.env.CONVKIT_REQUIRE_NATIVE === '1') throw new Error(`${message} (CONVKIT_REQUIRE_NATIVE=1)`);
  process.emitWarning(message, { type: 'ConvkitWarning', code: NATIVE_FALLBACK_CODE });
}
