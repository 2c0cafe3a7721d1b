// A persistent child process spoken to one line at a time: the peers (OpenBLAS, PyTorch) stay
// loaded and warm between requests, so that node can alternate with them round by round.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export class LineChild {
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string | null) => void> = [];
  private stderrText = '';
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
    child.stderr.on('data', (chunk: Buffer) => { this.stderrText += chunk.toString(); });
    const end = () => {
      this.exited = true;
      for (const waiter of this.waiting.splice(0)) waiter(null);
    };
    child.on('exit', end);
    child.on('error', (err) => { this.stderrText += err.message; end(); });
    child.stdin.on('error', () => {}); // a write after the child exited: the next read says so
  }

  static spawn(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): LineChild {
    return new LineChild(spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** What the child wrote to stderr so far (its error message when it exited). */
  get stderr(): string {
    return this.stderrText.trim();
  }

  /** The next line of the child's output; null once it has exited. */
  next(): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Sends one line and waits for the line that answers it. */
  request(line: string): Promise<string | null> {
    if (!this.exited) this.child.stdin.write(`${line}\n`);
    return this.next();
  }

  close(lastLine = 'quit'): void {
    if (!this.exited) this.child.stdin.end(`${lastLine}\n`);
  }
}
