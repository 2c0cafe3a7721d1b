// The report: one row per (op, shape, backend), printed as an aligned table.
export interface Row {
  op: string;
  shape: string;
  backend: string;
  medianMs: number;
  /** Throughput with its unit, e.g. "GFLOP/s" or "GB/s". */
  rate: number;
  unit: string;
  note?: string;
}

export function printTable(rows: Row[]): void {
  const cells = rows.map((r) => [r.op, r.shape, r.backend, r.medianMs.toFixed(3), r.unit ? `${r.rate.toFixed(1)} ${r.unit}` : "-", r.note ?? '']);
  const header = ['op', 'shape', 'backend', 'median ms', 'rate', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 3 || i === 4 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

/** A markdown table, columns padded so that it reads as text too; right-aligned columns get `---:`. */
export function markdownTable(header: string[], cells: string[][], rightAligned: readonly number[] = []): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...cells.map((c) => c[i].length)));
  const pad = (v: string, i: number) => (rightAligned.includes(i) ? v.padStart(widths[i]) : v.padEnd(widths[i]));
  const line = (c: string[]) => `| ${c.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.includes(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}
