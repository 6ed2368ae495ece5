/**
 * How a load run is shown: a summary table for the terminal, and a self-contained HTML page
 * (inline SVG, no external assets) charting latency percentiles against concurrency.
 */
import type { LoadLevelReport } from './run-load.js';
import { TURN_METRICS, type TurnMetric } from './run-metrics.js';
import type { Summary } from './stats.js';

/** The metric the knee is judged on, per mode. */
export function kneeMetric(level: LoadLevelReport): TurnMetric {
  return level.mode === 'agent' && !level.silenceOnly ? 'firstAudioMs' : 'finalMs';
}

export interface Knee {
  metric: TurnMetric;
  /** The first level whose p90 is over twice the lowest level's, or that loses > 1% of frames or turns. */
  kneeCallers: number | null;
  /** The highest level before the knee. */
  lastGoodCallers: number | null;
  reason: string;
}

/**
 * Finds the knee of a sweep (levels in ascending order of callers): the first level whose p90 is
 * over twice the lowest level's (and 50 ms more), that leaves over 5% of turns unanswered, or where
 * callers got no session. Late frames are the load generator's own lateness, so they are reported
 * as a warning on the run rather than counted against the server.
 */
export function findKnee(levels: LoadLevelReport[]): Knee | null {
  if (levels.length === 0) return null;
  const metric = kneeMetric(levels[0]!);
  const base = levels[0]!.metrics.latency[metric].p90;
  let lastGood: number | null = null;
  for (const level of levels) {
    const m = level.metrics;
    const p90 = m.latency[metric].p90;
    const turns = m.counters.turns;
    const answered =
      level.mode === 'agent' && !level.silenceOnly ? m.counters.turnsAnswered : turns;
    let reason: string | undefined;
    if (base !== null && p90 !== null && p90 > 2 * base && p90 - base > 50) {
      reason = `${metric} p90 ${fmt(p90)} ms > 2 x ${fmt(base)} ms`;
    } else if (turns >= 10 && m.counters.turnsNoReply / turns > 0.05) {
      reason = `unanswered turns ${((m.counters.turnsNoReply / turns) * 100).toFixed(1)}% > 5%`;
    } else if (turns >= 10 && answered === 0) {
      reason = `none of ${turns} turns got an answer before the stop`;
    } else if (m.counters.sessionsStarted < level.callers) {
      reason = `${level.callers - m.counters.sessionsStarted} callers got no session`;
    }
    if (reason) return { metric, kneeCallers: level.callers, lastGoodCallers: lastGood, reason };
    lastGood = level.callers;
  }
  return {
    metric,
    kneeCallers: null,
    lastGoodCallers: lastGood,
    reason: 'no knee within the levels run',
  };
}

/** Why a level's numbers should be read with care. */
export function levelWarnings(level: LoadLevelReport): string[] {
  const warnings: string[] = [];
  if (level.metrics.lateFrameRatio > 0.01) {
    warnings.push(
      `the load generator sent ${(level.metrics.lateFrameRatio * 100).toFixed(1)}% of frames late (> 1%): ` +
        'this machine is short of CPU for the callers, and the server saw jittery input',
    );
  }
  if (level.release.sessionsActive !== 0) {
    warnings.push(
      `${level.release.sessionsActive ?? 'unknown'} sessions still open on the server after the level`,
    );
  }
  return warnings;
}

const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

/** The terminal summary of one level. */
export function formatLevel(level: LoadLevelReport): string {
  const m = level.metrics;
  const lines: string[] = [];
  lines.push(
    `== ${level.callers} callers, ${level.mode}${level.silenceOnly ? ' (silence)' : ''}, ${level.codec}, ` +
      `${level.durationS} s (ramp ${level.rampS.toFixed(1)} s), wall ${level.wallS.toFixed(1)} s`,
  );
  lines.push(
    `${'metric'.padEnd(40)}${'count'.padStart(7)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}`,
  );
  for (const [key, label] of Object.entries(TURN_METRICS) as Array<[TurnMetric, string]>) {
    const s: Summary = m.latency[key];
    if (s.count === 0) continue;
    const d = key === 'frameLatenessMs' ? 1 : 0;
    lines.push(
      `${`${label} (ms)`.padEnd(40)}${String(s.count).padStart(7)}${fmt(s.p50, d).padStart(9)}${fmt(s.p90, d).padStart(9)}` +
        `${fmt(s.p99, d).padStart(9)}${fmt(s.max, d).padStart(9)}`,
    );
  }
  const c = m.counters;
  lines.push(
    `sessions ${c.sessionsStarted}/${level.callers}  turns ${c.turns} (answered ${c.turnsAnswered}, no reply ${c.turnsNoReply})  ` +
      `interrupts ${c.interrupts} (cancelled ${c.interruptsCancelled}, not stopped by barge-in ${c.interruptsMissed})`,
  );
  lines.push(
    `frames sent ${c.framesSent}, late ${c.framesLate} (${(m.lateFrameRatio * 100).toFixed(2)}%)  ` +
      `agent frames ${c.agentFrames}, dropped ${c.agentFramesDropped} (${(m.droppedFrameRatio * 100).toFixed(2)}%)`,
  );
  const srv = level.server;
  lines.push(
    `server CPU mean ${fmt(srv.cpuPercent.mean)}% max ${fmt(srv.cpuPercent.max)}%  ` +
      `RSS start ${fmt(srv.rssMb.start)} MB max ${fmt(srv.rssMb.max)} MB end ${fmt(srv.rssMb.end)} MB  ` +
      `(load generator CPU ${level.loadGeneratorCpuPercent}%)`,
  );
  const rel = level.release;
  lines.push(
    `sessions released ${rel.releaseMs === null ? 'not within the wait' : `${(rel.releaseMs / 1000).toFixed(1)} s`} after ` +
      `the stop; server RSS then ${fmt(rel.rssMb)} MB`,
  );
  for (const warning of levelWarnings(level)) lines.push(`WARNING: ${warning}`);
  const lag = level.serverEventLoopLagMs;
  if (lag)
    lines.push(`server event-loop lag p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms`);
  const errors = Object.entries(m.errors);
  lines.push(
    `errors: ${errors.length === 0 ? 'none' : errors.map(([k, n]) => `${k} x${n}`).join(', ')}`,
  );
  const cancelled = Object.entries(m.cancelled);
  if (cancelled.length > 0)
    lines.push(`cancelled: ${cancelled.map(([k, n]) => `${k} x${n}`).join(', ')}`);
  return lines.join('\n');
}

/** Histograms of `/metrics` that were never observed during the run. */
export function unobservedHistograms(level: LoadLevelReport): string[] {
  return Object.entries(level.serverHistograms)
    .filter(([, n]) => n === 0)
    .map(([name]) => name);
}

const CHART_METRICS: TurnMetric[] = [
  'firstAudioMs',
  'finalMs',
  'firstPartialMs',
  'serverOverheadMs',
];
const COLORS = { p50: '#2b8a3e', p90: '#e67700', p99: '#c92a2a' } as const;

/** A self-contained HTML page: one chart per latency metric, p50/p90/p99 against callers. */
export function renderHtml(
  levels: LoadLevelReport[],
  knee: Knee | null,
  title = 'Undertone load test',
): string {
  const measured = CHART_METRICS.filter((k) => levels.some((l) => l.metrics.latency[k].count > 0));
  // With no turn measured at all, an empty first chart still shows the levels that ran.
  const charts = (measured.length > 0 || levels.length === 0 ? measured : [CHART_METRICS[0]!])
    .map((k) => chartSvg(levels, k, knee))
    .join('\n');
  const rows = levels
    .map((l) => {
      const m = l.metrics;
      const cell = (k: TurnMetric): string => `${fmt(m.latency[k].p50)} / ${fmt(m.latency[k].p99)}`;
      return (
        `<tr><td>${l.callers}</td><td>${cell('firstAudioMs')}</td><td>${cell('finalMs')}</td><td>${cell('firstPartialMs')}</td>` +
        `<td>${(m.lateFrameRatio * 100).toFixed(2)}%</td><td>${m.counters.turnsAnswered}/${m.counters.turns}</td>` +
        `<td>${fmt(l.server.cpuPercent.mean)}%</td><td>${fmt(l.server.rssMb.max)}</td>` +
        `<td style="text-align:left">${escapeHtml(levelWarnings(l).join('; '))}</td></tr>`
      );
    })
    .join('\n');
  const kneeText = knee
    ? knee.kneeCallers === null
      ? `No knee up to ${knee.lastGoodCallers} callers (${escapeHtml(knee.reason)}).`
      : `Knee at ${knee.kneeCallers} callers: ${escapeHtml(knee.reason)}; last good level ${knee.lastGoodCallers ?? 'none'}.`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}svg{margin:8px 16px 8px 0}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p>${levels.length} level(s), mode ${levels[0]?.mode ?? '-'}, codec ${levels[0]?.codec ?? '-'}. ${kneeText}</p>
${charts}
<table><tr><th>callers</th><th>speech end &rarr; first audio p50/p99 ms</th><th>speech end &rarr; final p50/p99 ms</th>
<th>first partial p50/p99 ms</th><th>late frames</th><th>answered/turns</th><th>server CPU</th><th>server RSS max MB</th><th>notes</th></tr>
${rows}
</table></body></html>
`;
}

function chartSvg(levels: LoadLevelReport[], metric: TurnMetric, knee: Knee | null): string {
  const w = 460;
  const h = 280;
  const pad = { l: 56, r: 16, t: 44, b: 40 };
  const xs = levels.map((l) => l.callers);
  const values = levels.flatMap((l) => [l.metrics.latency[metric].p99 ?? 0]);
  const yMax = niceMax(Math.max(1, ...values));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const x = (v: number): number =>
    pad.l +
    (xMax === xMin ? (w - pad.l - pad.r) / 2 : ((v - xMin) / (xMax - xMin)) * (w - pad.l - pad.r));
  const y = (v: number): number => h - pad.b - (v / yMax) * (h - pad.t - pad.b);

  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(
      `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${Math.round(v)}</text>`,
    );
  }
  for (const c of xs)
    parts.push(
      `<text x="${x(c)}" y="${h - pad.b + 16}" text-anchor="middle" font-size="11">${c}</text>`,
    );
  parts.push(
    `<text x="${(w + pad.l) / 2}" y="${h - 6}" text-anchor="middle" font-size="12">concurrent callers</text>`,
  );
  if (knee?.kneeCallers !== null && knee?.kneeCallers !== undefined && knee.metric === metric) {
    parts.push(
      `<line x1="${x(knee.kneeCallers)}" x2="${x(knee.kneeCallers)}" y1="${pad.t}" y2="${h - pad.b}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${x(knee.kneeCallers) + 4}" y="${pad.t + 12}" font-size="11" fill="#555">knee</text>`,
    );
  }
  for (const q of ['p50', 'p90', 'p99'] as const) {
    const points = levels
      .map((l) => [l.callers, l.metrics.latency[metric][q]] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null);
    if (points.length === 0) continue;
    parts.push(
      `<polyline fill="none" stroke="${COLORS[q]}" stroke-width="2" points="${points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [a, b] of points)
      parts.push(
        `<circle cx="${x(a).toFixed(1)}" cy="${y(b).toFixed(1)}" r="3" fill="${COLORS[q]}"/>`,
      );
  }
  const legend = (['p50', 'p90', 'p99'] as const)
    .map(
      (q, i) =>
        `<text x="${w - pad.r - 120 + i * 42}" y="34" font-size="11" fill="${COLORS[q]}">${q}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(TURN_METRICS[metric])}">
<text x="${pad.l}" y="16" font-size="13" font-weight="600">${escapeHtml(TURN_METRICS[metric])} (ms)</text>${legend}
${parts.join('\n')}
</svg>`;
}

function niceMax(v: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
