// bench:serve's report: the markdown table and a well-formed SVG bar chart.
import { describe, expect, it } from 'vitest';
import { barChartSvg, markdownTable, type ServeRow } from '../bench/serve/report.js';
import { svgProblem } from '../examples/common/svg.js';

const rows: ServeRow[] = [1, 16, 64].flatMap((connections, i) => [
  { backend: 'convkit', connections, requestsPerSecond: 1000 * (i + 1), p50Ms: 1, p99Ms: 3, loopP99Ms: 1.234, loopWaitPct: 12.4, failures: 0 },
  { backend: 'onnxruntime-node', connections, requestsPerSecond: 900 * (i + 1), p50Ms: 2, p99Ms: 4, loopP99Ms: 2.5, loopWaitPct: null, failures: 0 },
]);

describe('bench:serve report', () => {
  it('writes one table row per run', () => {
    const table = markdownTable(rows).trimEnd().split('\n');
    expect(table).toHaveLength(2 + rows.length);
    expect(table[2]).toBe('| convkit | 1 | 1,000 | 1 ms | 3 ms | 1.23 ms | 12% | 0 |');
    expect(table[3]).toBe('| onnxruntime-node | 1 | 900 | 2 ms | 4 ms | 2.50 ms | n/a | 0 |');
  });

  it('draws a well-formed grouped bar chart, with one server or two', () => {
    expect(svgProblem(barChartSvg(rows, 'a < b & c'))).toBeNull();
    expect(svgProblem(barChartSvg(rows.filter((r) => r.backend === 'convkit'), 'one'))).toBeNull();
    expect(barChartSvg(rows, 't').match(/<rect /g)!.length).toBe(1 + rows.length + 2 + 1); // background, bars, legend, frame
  });
});
