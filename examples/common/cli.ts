// Command-line handling shared by the examples: --json, --out DIR, and example-specific options.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The repository root (examples/common/ is two levels down). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

type OptionSpec = { type: 'string' | 'boolean'; default?: string | boolean };
type ValuesOf<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : string | undefined;
};

let jsonMode = false;

/**
 * Parse the example's arguments. Every example takes `--json` (print one line of JSON and
 * nothing else) and `--out DIR` (where pictures go; default out/<name>/ under the repo root).
 * The output folder is created.
 */
export function exampleArgs<O extends Record<string, OptionSpec>>(
  name: string,
  options: O = {} as O,
  argv: string[] = process.argv.slice(2),
): { values: ValuesOf<O>; json: boolean; outDir: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...options,
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    } as Record<string, OptionSpec>,
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    const extra = Object.entries(options).map(([k, o]) => `  --${k}${o.type === 'string' ? ' VALUE' : ''}${o.default !== undefined ? `  (default ${String(o.default)})` : ''}`);
    console.log([`usage: npx tsx examples/${name}.ts [--json] [--out DIR]`, ...extra].join('\n'));
    process.exit(0);
  }
  jsonMode = values.json === true;
  const outDir = resolve(typeof values.out === 'string' ? values.out : resolve(repoRoot, 'out', name));
  mkdirSync(outDir, { recursive: true });
  return { values: values as ValuesOf<O>, json: jsonMode, outDir };
}

/** Print the result as ONE line of JSON (non-finite numbers become null). */
export function printJson(result: object): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** console.log, but only when --json was not given. */
export function say(...args: unknown[]): void {
  if (!jsonMode) console.log(...args);
}
