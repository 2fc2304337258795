/**
 * Latency against offered load, as an SVG drawn by hand (no plotting dependency): one point per
 * open-loop phase, POST and order→completed p50/p99 on a log scale, and the 150 ms target.
 * `npx tsx test/bench/plot.ts [results.json]` redraws it from a results file (default latest.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsDir, writeResultFile, type BenchResult } from './report.js';

/** The figure report.ts holds order→completed p99 to. */
export const TARGET_MS = 150;

const WIDTH = 960;
const HEIGHT = 540;
const PLOT = { left: 90, top: 70, right: 700, bottom: 470 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

interface Series {
  label: string;
  color: string;
  points: Array<{ x: number; y: number }>;
}

/** The SVG document for one run. */
export function latencyVsLoadSvg(result: BenchResult): string {
  const open = result.phases.filter((p) => p.http.mode === 'open').sort((a, b) => a.http.offered - b.http.offered);
  const series: Series[] = [
    { label: 'POST /orders p50', color: '#6baed6', points: open.map((p) => ({ x: p.http.offered, y: p.http.latencyMs.p50 })) },
    { label: 'POST /orders p99', color: '#08519c', points: open.map((p) => ({ x: p.http.offered, y: p.http.latencyMs.p99 })) },
    { label: 'order→completed p50', color: '#fd8d3c', points: open.map((p) => ({ x: p.http.offered, y: p.sagas.orderToCompletedMs.p50 })) },
    { label: 'order→completed p99', color: '#a63603', points: open.map((p) => ({ x: p.http.offered, y: p.sagas.orderToCompletedMs.p99 })) },
  ].map((s) => ({ ...s, points: s.points.filter((point) => Number.isFinite(point.y) && point.y > 0) }));

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 30, 'Latency against offered load (open loop)', { size: 20, anchor: 'middle', weight: 'bold' }),
    text(WIDTH / 2, 52, `${result.startedAt} · ${result.machine.cpus} CPUs · node ${result.machine.node} · all processes on one machine`, { size: 12, anchor: 'middle', fill: '#555' }),
  ];
  const values = series.flatMap((s) => s.points.map((p) => p.y));
  if (open.length === 0 || values.length === 0) {
    out.push(text(WIDTH / 2, HEIGHT / 2, 'no open-loop phase in this run', { size: 16, anchor: 'middle' }), '</svg>');
    return `${out.join('\n')}\n`;
  }

  const xMax = niceCeiling(Math.max(...open.map((p) => p.http.offered)) * 1.05);
  const x = (v: number) => PLOT.left + (v / xMax) * (PLOT.right - PLOT.left);
  const lowDecade = Math.floor(Math.log10(Math.min(TARGET_MS, ...values)));
  const highDecade = Math.ceil(Math.log10(Math.max(TARGET_MS, ...values)));
  const y = (v: number) => PLOT.bottom - ((Math.log10(v) - lowDecade) / Math.max(1, highDecade - lowDecade)) * (PLOT.bottom - PLOT.top);

  // Grid and ticks: every 1-2-5 value on the log axis, labelled; a light line at each.
  for (let decade = lowDecade; decade <= highDecade; decade += 1) {
    for (const step of [1, 2, 5]) {
      const v = step * 10 ** decade;
      if (Math.log10(v) > highDecade + 1e-9) continue;
      out.push(line(PLOT.left, y(v), PLOT.right, y(v), step === 1 ? '#d0d0d0' : '#ececec'));
      out.push(text(PLOT.left - 8, y(v) + 4, formatMs(v), { size: 12, anchor: 'end', fill: step === 1 ? '#222' : '#777' }));
    }
  }
  for (const v of linearTicks(xMax)) {
    out.push(line(x(v), PLOT.top, x(v), PLOT.bottom, '#ececec'));
    out.push(line(x(v), PLOT.bottom, x(v), PLOT.bottom + 5, '#222'));
    out.push(text(x(v), PLOT.bottom + 20, String(v), { size: 12, anchor: 'middle' }));
  }
  out.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#222"/>`);
  out.push(text((PLOT.left + PLOT.right) / 2, PLOT.bottom + 48, 'offered load (orders/s)', { size: 14, anchor: 'middle' }));
  out.push(text(24, (PLOT.top + PLOT.bottom) / 2, 'latency (log scale)', { size: 14, anchor: 'middle', rotate: true }));

  out.push(`<line x1="${PLOT.left}" y1="${y(TARGET_MS)}" x2="${PLOT.right}" y2="${y(TARGET_MS)}" stroke="#d62728" stroke-width="2" stroke-dasharray="8 5"/>`);
  for (const s of series) {
    const coords = s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${coords}" fill="none" stroke="${s.color}" stroke-width="2.5"/>`);
    for (const p of s.points) {
      out.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="4" fill="${s.color}"><title>${escape(`${s.label} at ${p.x}/s: ${p.y} ms`)}</title></circle>`);
    }
  }

  const legendX = PLOT.right + 30;
  const entries: Array<{ label: string[]; swatch: string }> = [
    ...series.map((s) => ({ label: [s.label], swatch: `stroke="${s.color}" stroke-width="2.5"` })),
    { label: [`target ${TARGET_MS} ms:`, 'order→completed p99', 'at 200 orders/s'], swatch: 'stroke="#d62728" stroke-width="2" stroke-dasharray="8 5"' },
  ];
  let top = PLOT.top + 10;
  for (const entry of entries) {
    out.push(`<line x1="${legendX}" y1="${top}" x2="${legendX + 30}" y2="${top}" ${entry.swatch}/>`);
    entry.label.forEach((part, i) => out.push(text(legendX + 38, top + 4 + i * 16, part, { size: 13 })));
    top += 10 + entry.label.length * 16;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Writes `latency-vs-load.svg` and `<stamp>-latency-vs-load.svg` beside the results; returns the path of the first. */
export function writeLatencyPlot(result: BenchResult): string {
  return writeResultFile(result, 'latency-vs-load.svg', latencyVsLoadSvg(result));
}

function text(x: number, y: number, content: string, style: { size: number; anchor?: string; weight?: string; fill?: string; rotate?: boolean }): string {
  const rotate = style.rotate ? ` transform="rotate(-90 ${x} ${y})"` : '';
  return `<text x="${x}" y="${y}" font-size="${style.size}" text-anchor="${style.anchor ?? 'start'}" font-weight="${style.weight ?? 'normal'}" fill="${style.fill ?? '#222'}"${rotate}>${escape(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string): string {
  return `<line x1="${x1}" y1="${y1.toFixed(1)}" x2="${x2}" y2="${y2.toFixed(1)}" stroke="${stroke}" stroke-width="1"/>`;
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatMs(v: number): string {
  return v >= 1000 ? `${v / 1000} s` : `${v} ms`;
}

/** Smallest 1-2-5 × 10^k not below `v`. */
function niceCeiling(v: number): number {
  const decade = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((step) => step * decade >= v) ?? 10) * decade;
}

/** About five round ticks from 0 to `max`. */
function linearTicks(max: number): number[] {
  const raw = max / 5;
  const decade = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((s) => s * decade >= raw) ?? 10) * decade;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? path.join(resultsDir, 'latest.json');
  const written = writeLatencyPlot(JSON.parse(readFileSync(file, 'utf8')) as BenchResult);
  process.stdout.write(`${written}\n`);
}
