/**
 * The wait- and run-time histograms of a queue as inline SVG bar charts.
 * The core reports 148 buckets (seconds 0–59, minutes 1–59, hours 1–23,
 * days 1–6); each unit gets its own band so a minute-long job does not look
 * like a one-second one. Styling comes from the stylesheet (CSP forbids
 * inline styles); every bar carries a <title> as its tooltip.
 */
import { duration } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { TimingStats } from '../../types.js';

const BAR = 5;
const HEIGHT = 120;
const TOP = 8;
const PLOT = 148 * BAR;
// Room on the right for the last band's label.
const WIDTH = PLOT + 24;

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
    return html`<rect class="bar" x="${i * BAR}" y="${TOP + HEIGHT - h}" width="${BAR - 1}" height="${h}"><title>${bucketLabel(i)}: ${value}</title></rect>`;
  });
  const bands = BANDS.map(
    (band) => html`<line class="band" x1="${band.start * BAR}" x2="${band.start * BAR}" y1="${TOP}" y2="${TOP + HEIGHT + 4}"></line><text class="axis" x="${band.start * BAR + 3}" y="${TOP + HEIGHT + 18}">${band.label}</text>`,
  );
  const summary =
    stats.count === 0
      ? 'no samples'
      : `${stats.count} sample${stats.count === 1 ? '' : 's'}, mean ${duration(stats.mean)}, std ${duration(stats.std)}`;
  return html`<figure class="chart">
    <figcaption><strong>${title}</strong> <span class="muted">${summary}</span></figcaption>
    <svg viewBox="0 0 ${WIDTH} ${TOP + HEIGHT + 24}" role="img" aria-label="${title} histogram: ${summary}">
      <line class="base" x1="0" x2="${PLOT}" y1="${TOP + HEIGHT}" y2="${TOP + HEIGHT}"></line>
      ${bands}${bars}
    </svg>
  </figure>`;
}
