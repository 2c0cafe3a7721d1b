// Atomic file replacement: write a temp file beside the target, fsync it, rename it over the
// target. A rename within one directory is atomic, so a crash at any point leaves either the
// old file or the complete new one at path, never a partial file.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A name in the target's directory (so the rename stays on one file system) that no one else uses. */
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function failure(op: string, path: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`${op}: could not write '${path}' (${message}); any previous file there is unchanged`, { cause: err });
}

/** Makes the rename itself durable. Best effort: some platforms (Windows) cannot open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // the data is already safe in the file; only the rename's durability is at stake
  }
}

export async function writeFileAtomic(path: string, data: Uint8Array, op = 'writeFileAtomic'): Promise<void> {
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644); // 'wx': never clobber a file we did not create
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw failure(op, path, err);
  }
  await syncDirectory(dirname(path));
}

export function writeFileAtomicSync(path: string, data: Uint8Array, op = 'writeFileAtomicSync'): void {
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // nothing more to do: report the original failure
    }
    throw failure(op, path, err);
  }
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort, as in syncDirectory
  }
}
