// The training chart: loss per step as a line, validation loss as dots, drawn
// as inline SVG sized to its box (so its text stays legible at 390 px). Rows are
// kept by step, so a replayed event (a reload, a reconnect) draws nothing twice.
// The chart is an image with a text alternative: its <title> and <desc> say what
// it shows in words, updated with it.
import { s } from './dom.js';
import type { MetricRow } from './api-types.js';

export interface ValidationPoint {
  step: number;
  loss: number;
}

export class LossChart {
  private readonly rows = new Map<number, MetricRow>();
  private readonly validation = new Map<number, number>();
  private totalSteps = 0;
  private readonly svg: SVGSVGElement;
  private frame = 0;

  constructor(private readonly container: HTMLElement) {
    this.svg = s('svg', { id: 'loss-chart', role: 'img', 'aria-labelledby': 'loss-chart-title loss-chart-desc', 'data-points': '0' });
    container.replaceChildren(this.svg);
    new ResizeObserver(() => this.schedule()).observe(container);
    this.render();
  }

  reset(): void {
    this.rows.clear();
    this.validation.clear();
    this.totalSteps = 0;
    this.schedule();
  }

  addRow(row: MetricRow, totalSteps: number): void {
    this.rows.set(row.step, row);
    if (row.validLoss !== undefined) this.validation.set(row.step, row.validLoss);
    this.totalSteps = Math.max(this.totalSteps, totalSteps);
    this.schedule();
  }

  addValidation(point: ValidationPoint): void {
    this.validation.set(point.step, point.loss);
    this.schedule();
  }

  setTotal(totalSteps: number): void {
    this.totalSteps = Math.max(this.totalSteps, totalSteps);
    this.schedule();
  }

  get points(): number {
    return this.rows.size;
  }

  /** one redraw per frame however many events arrive in it */
  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const width = Math.max(280, Math.round(this.container.clientWidth || 600));
    const height = Math.round(Math.min(300, Math.max(190, width * 0.42)));
    const margin = { left: 46, right: 14, top: 14, bottom: 34 };
    const rows = [...this.rows.values()].sort((a, b) => a.step - b.step);
    const valid = [...this.validation.entries()].sort((a, b) => a[0] - b[0]);
    const losses = [...rows.map((r) => r.loss), ...valid.map(([, loss]) => loss)].filter(Number.isFinite);
    const maxStep = Math.max(1, this.totalSteps, rows.at(-1)?.step ?? 0);
    let low = losses.length ? Math.min(...losses) : 0;
    let high = losses.length ? Math.max(...losses) : 1;
    if (high - low < 1e-6) {
      low -= 0.5;
      high += 0.5;
    }
    const pad = (high - low) * 0.08;
    low = Math.max(0, low - pad);
    high += pad;
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const x = (step: number) => margin.left + (step / maxStep) * plotW;
    const y = (loss: number) => margin.top + (1 - (loss - low) / (high - low)) * plotH;

    const parts: SVGElement[] = [s('title', { id: 'loss-chart-title' }, 'Training loss by step'), s('desc', { id: 'loss-chart-desc' }, this.describe(rows, valid))];
    for (let i = 0; i <= 4; i++) {
      const value = low + ((high - low) * i) / 4;
      parts.push(s('line', { class: 'chart-grid', x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value) }));
      parts.push(s('text', { class: 'chart-label', x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, value.toFixed(2)));
    }
    for (const step of [0, Math.round(maxStep / 2), maxStep]) {
      parts.push(s('text', { class: 'chart-label', x: x(step), y: height - margin.bottom + 18, 'text-anchor': step === 0 ? 'start' : step === maxStep ? 'end' : 'middle' }, String(step)));
    }
    parts.push(s('text', { class: 'chart-label', x: margin.left + plotW / 2, y: height - 4, 'text-anchor': 'middle' }, 'step'));
    if (rows.length > 0) {
      const points = rows.map((r) => `${x(r.step).toFixed(1)},${y(r.loss).toFixed(1)}`).join(' ');
      parts.push(s('polyline', { class: 'chart-loss', points, fill: 'none' }));
    }
    for (const [step, loss] of valid) {
      parts.push(s('circle', { class: 'chart-valid', cx: x(step), cy: y(loss), r: 4.5 }));
    }
    this.svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.svg.setAttribute('width', String(width));
    this.svg.setAttribute('height', String(height));
    this.svg.setAttribute('data-points', String(rows.length));
    this.svg.replaceChildren(...parts);
  }

  private describe(rows: MetricRow[], valid: Array<[number, number]>): string {
    if (rows.length === 0) return 'No training steps yet.';
    const first = rows[0]!;
    const last = rows.at(-1)!;
    let text = `${rows.length} steps of ${this.totalSteps || last.step}: loss ${first.loss.toFixed(3)} at step ${first.step}, ${last.loss.toFixed(3)} at step ${last.step}.`;
    if (valid.length > 0) text += ` Validation loss: ${valid.map(([step, loss]) => `${loss.toFixed(3)} at step ${step}`).join(', ')}.`;
    return text;
  }
}
