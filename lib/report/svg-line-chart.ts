// A line chart as inline SVG: axes with round ticks, grid lines, labels, and
// any number of series drawn as a line or as dots. No script and no external
// file, so report.html stays one self-contained page.
//
// Colours and strokes are not written here: each series carries a class that
// the page's stylesheet colours, so dark mode and print can restyle a chart.
// The SVG has no xmlns attribute: inline in HTML it needs none, and the page
// then holds no http reference but the ones it means to.
import { linearScale, niceAxis } from './chart-scale.js';
import { escapeHtml } from './escape-html.js';

export type Point = readonly [x: number, y: number];

export interface ChartSeries {
  /** The series' class, for the stylesheet (and for tests to find it). */
  className: string;
  points: readonly Point[];
  /** A line through the points, or a dot on each (for values measured on a few steps). */
  mark: 'line' | 'dots';
  /** A tooltip for each dot (the SVG <title> browsers show on hover). */
  describe?: (point: Point) => string;
}

export interface LineChartOptions {
  /** What the chart shows, for screen readers. */
  title: string;
  width: number;
  height: number;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
  /** Stretch the y axis down to 0 (a learning rate) instead of fitting the data (a loss). */
  yFromZero?: boolean;
  /** About how many ticks on each axis. */
  xTicks?: number;
  yTicks?: number;
}

const MARGIN = { top: 14, right: 18, bottom: 46, left: 66 };
const TICK = 5;

/** Coordinates in the SVG: one decimal is finer than a pixel and keeps long runs small. */
const px = (v: number) => (Math.round(v * 10) / 10).toString();

/** Smallest and largest value (a loop: spreading a long run's points into Math.min would overflow the stack). */
function extent(values: readonly number[], empty: [number, number]): [number, number] {
  if (values.length === 0) return empty;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export function renderLineChart(options: LineChartOptions): string {
  const { width, height } = options;
  const formatX = options.formatX ?? String;
  const formatY = options.formatY ?? String;
  // Non-finite values (a diverged loss) cannot be drawn; they are left out rather than breaking the path.
  const finite = options.series.map((series) => ({
    ...series,
    points: series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const all = finite.flatMap((series) => series.points);
  const [xMin, xMax] = extent(all.map(([x]) => x), [0, 1]);
  const [yMin, yMax] = extent(all.map(([, y]) => y), [0, 1]);
  const xAxis = niceAxis(xMin, xMax, options.xTicks ?? 8, true);
  const yAxis = niceAxis(options.yFromZero ? Math.min(0, yMin) : yMin, yMax, options.yTicks ?? 5);

  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const sx = linearScale([xAxis.min, xAxis.max], [left, right]);
  const sy = linearScale([yAxis.min, yAxis.max], [bottom, top]);

  const parts: string[] = [
    `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">`,
    `<title>${escapeHtml(options.title)}</title>`,
    '<g class="grid">',
    ...yAxis.ticks.map((t) => `<line x1="${left}" x2="${right}" y1="${px(sy(t))}" y2="${px(sy(t))}"/>`),
    '</g>',
    '<g class="axis">',
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/>`,
    ...xAxis.ticks.map(
      (t) =>
        `<line x1="${px(sx(t))}" x2="${px(sx(t))}" y1="${bottom}" y2="${bottom + TICK}"/>` +
        `<text x="${px(sx(t))}" y="${bottom + TICK + 14}" text-anchor="middle">${escapeHtml(formatX(t))}</text>`,
    ),
    ...yAxis.ticks.map(
      (t) =>
        `<line x1="${left - TICK}" x2="${left}" y1="${px(sy(t))}" y2="${px(sy(t))}"/>` +
        `<text x="${left - TICK - 4}" y="${px(sy(t))}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatY(t))}</text>`,
    ),
    `<text class="label" x="${px((left + right) / 2)}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`,
    `<text class="label" transform="translate(14 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`,
    '</g>',
  ];

  for (const series of finite) {
    const cls = escapeHtml(series.className);
    if (series.mark === 'line') {
      const points = series.points.map(([x, y]) => `${px(sx(x))},${px(sy(y))}`).join(' ');
      parts.push(`<polyline class="${cls}" points="${points}"/>`);
    } else {
      parts.push(
        `<g class="${cls}">`,
        ...series.points.map((point) => {
          const tip = series.describe ? `<title>${escapeHtml(series.describe(point))}</title>` : '';
          return `<circle cx="${px(sx(point[0]))}" cy="${px(sy(point[1]))}" r="3.5">${tip}</circle>`;
        }),
        '</g>',
      );
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}
