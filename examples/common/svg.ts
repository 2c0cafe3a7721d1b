// Small self-contained SVG charts for the examples and benches: line plots, heatmaps with numbers,
// histograms, bars (grouped too).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { divergingColor } from './png.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Escape text for SVG/XML content and attributes. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Write an SVG string to a file, creating the folder if needed. */
export function writeSvg(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}

function svgOpen(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    `<rect width="${width}" height="${height}" fill="white"/>\n`;
}

const fmt = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
};

/** "Nice" tick values covering lo..hi (1, 2, 5 steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Nice ticks that enclose lo..hi (the first at or below lo, the last at or above hi). */
function coveringTicks(lo: number, hi: number, count = 5): number[] {
  const t = niceTicks(lo, hi, count);
  const step = t.length > 1 ? t[1]! - t[0]! : 1;
  if (t[0]! > lo + 1e-12) t.unshift(Number((t[0]! - step).toPrecision(12)));
  if (t[t.length - 1]! < hi - 1e-12) t.push(Number((t[t.length - 1]! + step).toPrecision(12)));
  return t;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** y values; x is the index (0, 1, 2, ...) unless `x` is given */
  series: { name: string; values: number[]; x?: number[]; markers?: boolean }[];
  logY?: boolean;
  width?: number;
  height?: number;
}

/** A line plot with axes, ticks, axis labels and a legend. */
export function linePlot(opts: LinePlotOptions): string {
  const W = opts.width ?? 640, H = opts.height ?? 400;
  const m = { left: 70, right: 20, top: 40, bottom: 55 };
  const legendH = 18 * opts.series.length;
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const tf = (v: number): number => (opts.logY ? Math.log10(v) : v);
  const pts = opts.series.map((s) => s.values.map((v, i) => [s.x?.[i] ?? i, v] as [number, number])
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!opts.logY || y > 0)));
  const all = pts.flat();
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => tf(p[1]))), y1 = Math.max(...all.map((p) => tf(p[1])));
  if (!all.length) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const yTicks = opts.logY
    ? Array.from({ length: Math.floor(y1) - Math.ceil(y0) + 1 }, (_, k) => Math.ceil(y0) + k)
    : coveringTicks(y0, y1);
  let xTicks = niceTicks(x0, x1, 8);
  if (all.every((p) => Number.isInteger(p[0]))) { // integer x (steps, epochs): integer ticks only
    xTicks = xTicks.filter(Number.isInteger);
    if (xTicks.length < 2) xTicks = Array.from({ length: x1 - x0 + 1 }, (_, k) => x0 + k);
  }
  if (!opts.logY) { y0 = Math.min(y0, yTicks[0]!); y1 = Math.max(y1, yTicks[yTicks.length - 1]!); }
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  let s = svgOpen(W, H);
  s += `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" ${FONT}>${esc(opts.title)}</text>\n`;
  for (const t of yTicks) {
    const y = sy(t);
    s += `<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`;
    s += `<text x="${m.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" ${FONT}>${esc(opts.logY ? fmt(10 ** t) : fmt(t))}</text>\n`;
  }
  for (const t of xTicks) {
    const x = sx(t);
    s += `<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="black"/>`;
    s += `<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle" font-size="11" ${FONT}>${esc(fmt(t))}</text>\n`;
  }
  s += `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>\n`;
  s += `<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle" font-size="13" ${FONT}>${esc(opts.xLabel)}</text>\n`;
  s += `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" ${FONT}>${esc(opts.yLabel)}${opts.logY ? ' (log scale)' : ''}</text>\n`;
  opts.series.forEach((ser, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const p = pts[k]!;
    if (p.length) {
      s += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${p.map(([x, y]) => `${sx(x).toFixed(2)},${sy(tf(y)).toFixed(2)}`).join(' ')}"/>\n`;
      if (ser.markers ?? p.length <= 40) {
        for (const [x, y] of p) s += `<circle cx="${sx(x).toFixed(2)}" cy="${sy(tf(y)).toFixed(2)}" r="2.5" fill="${color}"/>`;
        s += '\n';
      }
    }
  });
  // The legend goes in the corner of the plot with the fewest data points under it.
  const legendW = 34 + 7 * Math.max(...opts.series.map((ser) => ser.name.length)), legendBoxH = legendH + 8;
  const corners: [number, number][] = [
    [m.left + pw - legendW - 6, m.top + 6], [m.left + 6, m.top + 6],
    [m.left + pw - legendW - 6, m.top + ph - legendBoxH - 6], [m.left + 6, m.top + ph - legendBoxH - 6],
  ];
  const under = ([cx, cy]: [number, number]): number => {
    let n = 0;
    for (const p of pts) {
      for (let i = 0; i < p.length; i++) {
        const [x, y] = p[i]!, px = sx(x), py = sy(tf(y));
        if (px >= cx - 4 && px <= cx + legendW + 4 && py >= cy - 4 && py <= cy + legendBoxH + 4) n += 10;
        if (i > 0) { // segment midpoints, so a line crossing the box counts too
          const mx = (px + sx(p[i - 1]![0])) / 2, my = (py + sy(tf(p[i - 1]![1]))) / 2;
          if (mx >= cx && mx <= cx + legendW && my >= cy && my <= cy + legendBoxH) n += 5;
        }
      }
    }
    return n;
  };
  const [lx, ly0] = corners.reduce((best, c) => (under(c) < under(best) ? c : best));
  s += `<rect x="${lx}" y="${ly0}" width="${legendW}" height="${legendBoxH}" fill="white" fill-opacity="0.85" stroke="#bbb"/>\n`;
  opts.series.forEach((ser, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const ly = ly0 + 17 + 18 * k;
    s += `<rect x="${lx + 8}" y="${ly - 6}" width="16" height="4" fill="${color}"/>`;
    s += `<text x="${lx + 30}" y="${ly}" font-size="12" ${FONT}>${esc(ser.name)}</text>\n`;
  });
  return s + '</svg>\n';
}

export interface MatrixSvgOptions {
  title: string;
  matrix: number[][];
  rowLabels?: string[];
  colLabels?: string[];
  format?: (v: number) => string;
  /** blue-white-red around 0 (for kernels); default: white to blue by value (for counts) */
  diverging?: boolean;
  cell?: number;
}

/** A heatmap with the number printed in each cell (confusion matrices, printed kernels). */
export function matrixSvg(opts: MatrixSvgOptions): string {
  return svgOpen(...matrixSize(opts)) + matrixBody(opts, 0, 0) + '</svg>\n';
}

/** Width and height matrixSvg() uses (for laying several matrices out on one page). */
export function matrixSize(opts: MatrixSvgOptions): [number, number] {
  const cell = opts.cell ?? 44;
  const rows = opts.matrix.length, cols = Math.max(0, ...opts.matrix.map((r) => r.length));
  const left = opts.rowLabels ? 10 + 7 * Math.max(...opts.rowLabels.map((l) => l.length)) : 10;
  const top = 34 + (opts.colLabels ? 18 : 0);
  return [Math.max(left + cols * cell + 10, 8 * opts.title.length + 20), top + rows * cell + 10];
}

/** The matrix drawing as an SVG fragment placed at (x, y), without the <svg> wrapper. */
export function matrixBody(opts: MatrixSvgOptions, x: number, y: number): string {
  const cell = opts.cell ?? 44;
  const format = opts.format ?? fmt;
  const left = opts.rowLabels ? 10 + 7 * Math.max(...opts.rowLabels.map((l) => l.length)) : 10;
  const top = 34 + (opts.colLabels ? 18 : 0);
  const flat = opts.matrix.flat().filter(Number.isFinite);
  const lo = Math.min(0, ...flat), hi = Math.max(0, ...flat);
  const mAbs = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  let s = `<g transform="translate(${x} ${y})">\n`;
  s += `<text x="${left}" y="20" font-size="14" ${FONT}>${esc(opts.title)}</text>\n`;
  opts.colLabels?.forEach((l, j) => {
    s += `<text x="${left + j * cell + cell / 2}" y="${top - 6}" text-anchor="middle" font-size="11" ${FONT}>${esc(l)}</text>`;
  });
  opts.matrix.forEach((row, i) => {
    if (opts.rowLabels?.[i] !== undefined) {
      s += `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end" font-size="11" ${FONT}>${esc(opts.rowLabels[i]!)}</text>`;
    }
    row.forEach((v, j) => {
      let rgb: [number, number, number];
      if (opts.diverging) rgb = divergingColor(v, -mAbs, mAbs);
      else { const t = hi > lo ? (v - lo) / (hi - lo) : 0; rgb = [Math.round(255 - 222 * t), Math.round(255 - 153 * t), Math.round(255 - 83 * t)]; }
      const dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140;
      s += `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${rgb.join(',')})" stroke="#999"/>`;
      s += `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="${cell >= 40 ? 12 : 10}" fill="${dark ? 'white' : 'black'}" ${FONT}>${esc(format(v))}</text>`;
    });
    s += '\n';
  });
  return s + '</g>\n';
}

export interface HistogramOptions {
  title: string;
  series: { name: string; values: ArrayLike<number> }[];
  bins?: number;
  xLabel?: string;
  width?: number;
  height?: number;
}

/** Overlaid histograms (e.g. activation distributions per layer), shared bins, counts on y. */
export function histogramSvg(opts: HistogramOptions): string {
  const W = opts.width ?? 640, H = opts.height ?? 400, bins = opts.bins ?? 40;
  const m = { left: 70, right: 20, top: 40, bottom: 55 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  let lo = Infinity, hi = -Infinity;
  for (const ser of opts.series) for (let i = 0; i < ser.values.length; i++) {
    const v = ser.values[i]!; if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (lo === Infinity) { lo = 0; hi = 1; }
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const width = (hi - lo) / bins;
  const counts = opts.series.map((ser) => {
    const c = new Array<number>(bins).fill(0);
    for (let i = 0; i < ser.values.length; i++) {
      const v = ser.values[i]!;
      if (Number.isFinite(v)) c[Math.min(bins - 1, Math.floor((v - lo) / width))]! += 1;
    }
    return c;
  });
  const maxC = Math.max(1, ...counts.flat());
  const yTicks = niceTicks(0, maxC);
  const yMax = Math.max(maxC, yTicks[yTicks.length - 1]!);
  const sx = (x: number): number => m.left + ((x - lo) / (hi - lo)) * pw;
  const sy = (y: number): number => m.top + ph - (y / yMax) * ph;
  let s = svgOpen(W, H);
  s += `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" ${FONT}>${esc(opts.title)}</text>\n`;
  for (const t of yTicks) {
    s += `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`;
    s += `<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${esc(fmt(t))}</text>\n`;
  }
  for (const t of niceTicks(lo, hi, 8)) {
    s += `<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="black"/>`;
    s += `<text x="${sx(t)}" y="${m.top + ph + 18}" text-anchor="middle" font-size="11" ${FONT}>${esc(fmt(t))}</text>\n`;
  }
  counts.forEach((c, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    c.forEach((n, b) => {
      if (n > 0) s += `<rect x="${sx(lo + b * width).toFixed(2)}" y="${sy(n).toFixed(2)}" width="${(pw / bins).toFixed(2)}" height="${(ph - (sy(n) - m.top)).toFixed(2)}" fill="${color}" fill-opacity="${opts.series.length > 1 ? 0.45 : 0.8}"/>`;
    });
    s += '\n';
    const ly = m.top + 10 + 18 * k;
    s += `<rect x="${m.left + pw - 170}" y="${ly - 10}" width="12" height="12" fill="${color}" fill-opacity="0.6"/>`;
    s += `<text x="${m.left + pw - 152}" y="${ly}" font-size="12" ${FONT}>${esc(opts.series[k]!.name)}</text>\n`;
  });
  s += `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>\n`;
  s += `<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle" font-size="13" ${FONT}>${esc(opts.xLabel ?? 'value')}</text>\n`;
  s += `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" ${FONT}>count</text>\n`;
  return s + '</svg>\n';
}

/** Bars with labels (one series). */
export function barPlot(opts: { title: string; labels: string[]; values: number[]; yLabel?: string; width?: number; height?: number }): string {
  const W = opts.width ?? 640, H = opts.height ?? 400;
  const m = { left: 70, right: 20, top: 40, bottom: 70 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const finite = opts.values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite), hiRaw = Math.max(0, ...finite);
  const ticks = niceTicks(lo, hiRaw === lo ? lo + 1 : hiRaw);
  const y0 = Math.min(lo, ticks[0]!), y1 = Math.max(hiRaw, ticks[ticks.length - 1]!);
  const sy = (y: number): number => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const bw = pw / Math.max(1, opts.values.length);
  let s = svgOpen(W, H);
  s += `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" ${FONT}>${esc(opts.title)}</text>\n`;
  for (const t of ticks) {
    s += `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`;
    s += `<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${esc(fmt(t))}</text>\n`;
  }
  opts.values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const top = sy(Math.max(0, v)), bottom = sy(Math.min(0, v));
    s += `<rect x="${(m.left + i * bw + bw * 0.1).toFixed(2)}" y="${top.toFixed(2)}" width="${(bw * 0.8).toFixed(2)}" height="${(bottom - top).toFixed(2)}" fill="${PALETTE[0]}"/>`;
    s += `<text x="${(m.left + i * bw + bw / 2).toFixed(2)}" y="${m.top + ph + 16}" text-anchor="middle" font-size="11" ${FONT}>${esc(opts.labels[i] ?? '')}</text>\n`;
  });
  s += `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>\n`;
  if (opts.yLabel) s += `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" ${FONT}>${esc(opts.yLabel)}</text>\n`;
  return s + '</svg>\n';
}

export interface GroupedBarOptions {
  title: string;
  /** One label per group along x (may hold '\n' for a second line). */
  groups: string[];
  /** One bar per series in each group; NaN leaves a gap. */
  series: { name: string; values: number[] }[];
  yLabel?: string;
  /** A dashed horizontal line, e.g. { value: 1, label: 'peer' } under ratios; its label goes in the legend. */
  reference?: { value: number; label: string };
  /** The text over each bar (default: the value to 3 significant digits). */
  format?: (v: number) => string;
  width?: number;
  height?: number;
}

/** Bars in groups (one colour per series, a legend), each bar labelled with its value. */
export function groupedBarPlot(opts: GroupedBarOptions): string {
  const W = opts.width ?? Math.max(640, 90 + opts.groups.length * (28 * opts.series.length + 30)), H = opts.height ?? 420;
  const m = { left: 70, right: 20, top: 40 + 18 * Math.ceil((opts.series.length + (opts.reference ? 1 : 0)) / 3), bottom: 60 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const format = opts.format ?? ((v: number) => fmt(Number(v.toPrecision(3))));
  const finite = [...opts.series.flatMap((s) => s.values), opts.reference?.value ?? 0].filter(Number.isFinite);
  const ticks = coveringTicks(Math.min(0, ...finite), Math.max(1e-9, ...finite) * 1.08); // room for the labels over the bars
  const y0 = ticks[0]!, y1 = ticks[ticks.length - 1]!;
  const sy = (y: number): number => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const gw = pw / Math.max(1, opts.groups.length), bw = (gw * 0.8) / Math.max(1, opts.series.length);
  let s = svgOpen(W, H);
  s += `<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" ${FONT}>${esc(opts.title)}</text>\n`;
  const legend = [...opts.series.map((ser) => ser.name), ...(opts.reference ? [opts.reference.label] : [])];
  legend.forEach((name, k) => { // three entries a line, above the plot; the reference line last
    const lx = m.left + (k % 3) * (pw / 3), ly = 44 + 18 * Math.floor(k / 3);
    s += k < opts.series.length ? `<rect x="${lx.toFixed(2)}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/>`
      : `<line x1="${lx.toFixed(2)}" x2="${(lx + 12).toFixed(2)}" y1="${ly - 4}" y2="${ly - 4}" stroke="black" stroke-dasharray="3,2"/>`;
    s += `<text x="${(lx + 17).toFixed(2)}" y="${ly}" font-size="12" ${FONT}>${esc(name)}</text>\n`;
  });
  for (const t of ticks) {
    s += `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t).toFixed(2)}" y2="${sy(t).toFixed(2)}" stroke="#e5e5e5"/>`;
    s += `<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(2)}" text-anchor="end" font-size="11" ${FONT}>${esc(fmt(t))}</text>\n`;
  }
  opts.groups.forEach((label, g) => {
    opts.series.forEach((ser, k) => {
      const v = ser.values[g];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = m.left + g * gw + gw * 0.1 + k * bw, top = sy(Math.max(0, v)), bottom = sy(Math.min(0, v));
      s += `<rect x="${x.toFixed(2)}" y="${top.toFixed(2)}" width="${(bw * 0.92).toFixed(2)}" height="${(bottom - top).toFixed(2)}" fill="${PALETTE[k % PALETTE.length]}"/>`;
      s += `<text x="${(x + bw * 0.46).toFixed(2)}" y="${(top - 3).toFixed(2)}" text-anchor="middle" font-size="10" ${FONT}>${esc(format(v))}</text>\n`;
    });
    label.split('\n').forEach((line, i) => {
      s += `<text x="${(m.left + (g + 0.5) * gw).toFixed(2)}" y="${m.top + ph + 16 + 14 * i}" text-anchor="middle" font-size="11" ${FONT}>${esc(line)}</text>\n`;
    });
  });
  if (opts.reference && Number.isFinite(opts.reference.value)) {
    const y = sy(opts.reference.value).toFixed(2);
    s += `<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="black" stroke-dasharray="5,4"/>\n`;
  }
  s += `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>\n`;
  if (opts.yLabel) s += `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" ${FONT}>${esc(opts.yLabel)}</text>\n`;
  return s + '</svg>\n';
}

/**
 * A small well-formedness check for the SVG these helpers write (used by the tests): one <svg>
 * root, every tag closed in order, attributes quoted, no stray '<' or '>' or bare '&' in text.
 * Returns null when fine, or what is wrong. It is not a full XML parser.
 */
export function svgProblem(svg: string): string | null {
  if (!svg.trimStart().startsWith('<svg')) return 'does not start with <svg';
  if (!svg.includes('xmlns="http://www.w3.org/2000/svg"')) return 'no SVG namespace';
  const stack: string[] = [];
  let roots = 0, last = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  const textProblem = (text: string, where: string): string | null => {
    if (/[<>]/.test(text)) return `stray markup ${where}: ${JSON.stringify(text.slice(0, 60))}`;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) return `bare & ${where}`;
    return null;
  };
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const p = textProblem(svg.slice(last, m.index), `before ${m[0].slice(0, 40)}`);
    if (p) return p;
    last = tag.lastIndex;
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? 'nothing'}>`;
    } else {
      if (stack.length === 0) roots++;
      if (!self) stack.push(name!);
    }
  }
  if (svg.slice(last).trim() !== '') return 'text after the root element';
  if (stack.length) return `unclosed <${stack.join('> <')}>`;
  if (roots !== 1) return `${roots} root elements`;
  return null;
}
