// The serving bench's results as a markdown table and a grouped bar chart (SVG).
export interface ServeRow {
  backend: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  loopP99Ms: number;
  /** The share of the run the event loop's thread was ready to run but waited for a CPU (Linux), or null. */
  loopWaitPct: number | null;
  /** Non-2xx responses, socket errors and timeouts. */
  failures: number;
}

export function markdownTable(rows: ServeRow[]): string {
  const lines = [
    '| server | connections | requests/s | latency p50 | latency p99 | event-loop delay p99 | loop waiting for a CPU | failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.backend} | ${r.connections} | ${Math.round(r.requestsPerSecond).toLocaleString('en-US')} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.loopP99Ms.toFixed(2)} ms | ${r.loopWaitPct === null ? 'n/a' : `${Math.round(r.loopWaitPct)}%`} | ${r.failures} |`),
  ];
  return lines.join('\n') + '\n';
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Requests/s per connection count, one bar per server, with the event-loop p99 under each bar. */
export function barChartSvg(rows: ServeRow[], title: string): string {
  const groups = [...new Set(rows.map((r) => r.connections))];
  const series = [...new Set(rows.map((r) => r.backend))];
  const W = 640, H = 380, m = { left: 70, right: 20, top: 50, bottom: 80 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const max = Math.max(1, ...rows.map((r) => r.requestsPerSecond));
  const step = 10 ** Math.floor(Math.log10(max)) * (max / 10 ** Math.floor(Math.log10(max)) > 5 ? 2 : 1);
  const top = Math.ceil(max / step) * step;
  const y = (v: number) => m.top + ph - (v / top) * ph;
  const gw = pw / groups.length, bw = (gw * 0.8) / series.length;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">\n<rect width="${W}" height="${H}" fill="white"/>\n`;
  s += `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>\n`;
  for (let v = 0; v <= top; v += step) {
    s += `<line x1="${m.left}" x2="${m.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/><text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toLocaleString('en-US')}</text>\n`;
  }
  groups.forEach((c, g) => {
    series.forEach((name, k) => {
      const r = rows.find((row) => row.connections === c && row.backend === name);
      if (!r) return;
      const x = m.left + g * gw + gw * 0.1 + k * bw;
      s += `<rect x="${x.toFixed(1)}" y="${y(r.requestsPerSecond).toFixed(1)}" width="${(bw * 0.9).toFixed(1)}" height="${(m.top + ph - y(r.requestsPerSecond)).toFixed(1)}" fill="${COLORS[k % COLORS.length]}"/>\n`;
      s += `<text x="${(x + bw * 0.45).toFixed(1)}" y="${m.top + ph + 30}" text-anchor="middle" font-size="9">loop p99 ${r.loopP99Ms.toFixed(1)}</text>\n`;
    });
    s += `<text x="${(m.left + g * gw + gw / 2).toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle" font-size="12">${c} connection${c === 1 ? '' : 's'}</text>\n`;
  });
  series.forEach((name, k) => {
    s += `<rect x="${m.left + k * 170}" y="${H - 24}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/><text x="${m.left + k * 170 + 18}" y="${H - 14}" font-size="12">${esc(name)}</text>\n`;
  });
  s += `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">requests/s</text>\n`;
  s += `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>\n`;
  return s + '</svg>\n';
}
