// Starts examples/server.ts in its own process, so the event-loop delay it reports is the
// server's alone (autocannon runs in the bench's process), and stops it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServerProcess {
  url: string;
  /** The server's process id (taskset execs it, so the same process). */
  pid: number;
  metrics(reset?: boolean): Promise<{ eventLoopDelayMs: { p50: number; p99: number; max: number }; serverErrors: number }>;
  /** Nanoseconds the main thread has waited, ready to run, for a CPU (Linux's schedstat), or null elsewhere. */
  loopWaitNs(): number | null;
  stop(): Promise<void>;
}

/** cpus: a CPU list for taskset (e.g. '0'), to run the server apart from the load generator. */
export async function startServer(root: string, modelPath: string, args: string[] = [], cpus?: string): Promise<ServerProcess> {
  // As `npm run serve` runs it: a young generation of 64 MiB (see package.json).
  const command = [process.execPath, '--max-semi-space-size=64', '--import', 'tsx', 'examples/server.ts', modelPath, ...args];
  if (cpus !== undefined) command.unshift('taskset', '-c', cpus);
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on http:\/\/localhost:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code} before listening: ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid!,
    async metrics(reset = false) {
      const res = await fetch(`${url}/metrics${reset ? '?reset=1' : ''}`);
      return res.json() as ReturnType<ServerProcess['metrics']>;
    },
    loopWaitNs() {
      try {
        return Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        return null;
      }
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
