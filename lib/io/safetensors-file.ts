// Reading a safetensors file from disk in steps (length, header, data) so that every size is
// checked against the real file size before the buffer for it is allocated: a hostile header
// cannot make us allocate more than the file holds.
import { open } from 'node:fs/promises';
import { decodeTensors, parseHeader, readHeaderLength, type SafetensorsContents } from './safetensors.js';

async function readExactly(handle: import('node:fs/promises').FileHandle, length: number, position: number, path: string): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new RangeError(`safetensors: '${path}' ended early (was it truncated while being read?)`);
    done += bytesRead;
  }
  return buffer;
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const headerLength = readHeaderLength(path, await readExactly(handle, Math.min(8, size), 0, path), size);
    const dataStart = 8 + headerLength;
    const header = parseHeader(path, await readExactly(handle, headerLength, 8, path), size - dataStart);
    const data = await readExactly(handle, size - dataStart, dataStart, path);
    return { ...decodeTensors(path, header.entries, data), metadata: header.metadata };
  } finally {
    await handle.close();
  }
}
