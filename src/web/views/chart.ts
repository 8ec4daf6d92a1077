/**
 * The wait- and run-time histograms of a queue as inline SVG bar charts.
 * The core reports 148 buckets (seconds 0–59, minutes 1–59, hours 1–23,
 * days 1–6); each unit gets its own band so a minute-long job does not look
 * like a one-second one. Styling comes from the stylesheet (CSP forbids
 * inline styles); every bar carries a <title> as its tooltip, and the axes
 * are labelled (jobs on the left, ticks under the bands, the tallest bar's
 * count above it) so that a screenshot can be read without hovering.
 */
import { duration } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { TimingStats } from '../../types.js';

const BAR = 5;
const HEIGHT = 120;
const TOP = 22;
// Room on the left for the job counts of the y-axis.
const LEFT = 44;
const PLOT = 148 * BAR;
// Room on the right for the last band's label.
const WIDTH = LEFT + PLOT + 24;

/** Ticks under the x-axis: bucket index and its label. */
const TICKS: ReadonlyArray<readonly [number, string]> = [
  [0, '0'], [10, '10s'], [30, '30s'], [60, '1m'], [69, '10m'], [89, '30m'], [119, '1h'], [124, '6h'], [130, '12h'], [142, '1d'],
];

/** Round numbers for the y-axis: 0, a half-way mark and the top (the largest count). */
function yTicks(max: number): number[] {
  if (max <= 1) return [0, max];
  const half = Math.round(max / 2);
  return half > 0 && half < max ? [0, half, max] : [0, max];
}

/** The bands of the histogram: first index, and the unit's name. */
const BANDS: ReadonlyArray<{ start: number; label: string }> = [
  { start: 0, label: 'seconds' },
  { start: 60, label: 'minutes' },
  { start: 119, label: 'hours' },
  { start: 142, label: 'days' },
];

/** What bucket `i` covers, e.g. `12 s`, `3 min`, `2 h`, `1 d`. */
function bucketLabel(i: number): string {
  if (i < 60) return `${i} s`;
  if (i < 119) return `${i - 59} min`;
  if (i < 142) return `${i - 118} h`;
  return `${i - 141} d`;
}

/** An SVG bar chart of one histogram, with a caption of its count, mean and deviation. */
export function histogram(title: string, stats: TimingStats): SafeHtml {
  const max = Math.max(0, ...stats.histogram);
  const bars = stats.histogram.map((value, i) => {
    if (value <= 0) return html``;
    const h = Math.max(1, Math.round((value / max) * HEIGHT));
    return html`<rect class="bar" x="${LEFT + i * BAR}" y="${TOP + HEIGHT - h}" width="${BAR - 1}" height="${h}"><title>${bucketLabel(i)}: ${value}</title></rect>`;
  });
  const bands = BANDS.map(
    (band) => html`<line class="band" x1="${LEFT + band.start * BAR}" x2="${LEFT + band.start * BAR}" y1="${TOP}" y2="${TOP + HEIGHT + 4}"></line><text class="axis" x="${LEFT + band.start * BAR + 3}" y="${TOP + HEIGHT + 34}">${band.label}</text>`,
  );
  const xTicks = TICKS.map(([i, label]) => html`<text class="axis tick" x="${LEFT + i * BAR + BAR / 2}" y="${TOP + HEIGHT + 17}" text-anchor="middle">${label}</text>`);
  const yAxis =
    max > 0
      ? yTicks(max).map((v) => {
          const y = TOP + HEIGHT - Math.round((v / max) * HEIGHT);
          return html`<line class="grid" x1="${LEFT - 4}" x2="${LEFT + PLOT}" y1="${y}" y2="${y}"></line><text class="axis" x="${LEFT - 6}" y="${y + 5}" text-anchor="end">${v}</text>`;
        })
      : [];
  // The tallest bar's bucket and count, written above it.
  const peak = max > 0 ? stats.histogram.indexOf(max) : -1;
  const peakLabel =
    peak >= 0 ? html`<text class="axis peak" x="${LEFT + peak * BAR + BAR / 2}" y="${TOP - 6}" text-anchor="${peak > 120 ? 'end' : 'start'}">${max} in ${bucketLabel(peak)}</text>` : '';
  const summary =
    stats.count === 0
      ? 'no samples'
      : `${stats.count} sample${stats.count === 1 ? '' : 's'}, mean ${duration(stats.mean)}, std ${duration(stats.std)}`;
  return html`<figure class="chart">
    <figcaption><strong>${title}</strong> <span class="muted">${summary}</span></figcaption>
    <svg viewBox="0 0 ${WIDTH} ${TOP + HEIGHT + 40}" role="img" aria-label="${title} histogram: ${summary}">
      <text class="axis" x="2" y="${TOP - 6}">jobs</text>
      ${yAxis}
      <line class="base" x1="${LEFT}" x2="${LEFT + PLOT}" y1="${TOP + HEIGHT}" y2="${TOP + HEIGHT}"></line>
      ${bands}${xTicks}${bars}${peakLabel}
    </svg>
  </figure>`;
}
