// One run, as the page shows it: status, the live numbers and chart, stop and
// resume, then the results (data table, samples, links). It loads the run's
// state (GET /api/runs/:id), then follows its events (GET /api/runs/:id/events,
// replayed from the start, then live). Every handler is idempotent — rows are
// kept by step, tables and lists are redrawn whole — so a reload, a second tab
// or a reconnect that replays the events shows the same run, not a doubled one.
import { dataTable } from '../lib/data/data-table.js';
import { tweetIntentUrl } from '../lib/generate/samples.js';
import { api, runLinks } from './api.js';
import type { DatasetStats, RunEvent, RunState, Sample, TrainEvent } from './api-types.js';
import { byId, h, show } from './dom.js';
import { formatBytes, formatCount, formatDuration, formatLoss, formatTime } from './format.js';
import type { LossChart } from './loss-chart.js';
import { readSse } from './sse.js';

const STATUS_TEXT: Record<RunState['status'], string> = {
  queued: 'Queued: it starts when the run before it ends',
  running: 'Training',
  done: 'Done',
  failed: 'Failed',
  stopped: 'Stopped (checkpoint written)',
  interrupted: 'Interrupted by a server restart',
};

export class RunView {
  private readonly abort = new AbortController();
  private state?: RunState;
  private totalSteps = 0;
  /** the first and the newest step of this stretch of training, for the ETA */
  private first?: { step: number; elapsed: number };
  private last?: { step: number; elapsed: number; loss: number; tokensPerSecond: number };
  private validLoss?: number;
  private lastAnnounced = -1;
  /** how many states the page has shown: an answer to a request is stale if a state came meanwhile */
  private shown = 0;

  constructor(
    readonly id: string,
    private readonly chart: LossChart,
    private readonly onState: (state: RunState) => void,
  ) {
    chart.reset();
    byId('run-title').textContent = `Run ${id}`;
    for (const id of ['run-meta', 'run-error', 'run-notes', 'stat-step', 'stat-loss', 'stat-valid', 'stat-speed', 'stat-eta', 'stat-device', 'run-live']) byId(id).textContent = '';
    byId('data-table').replaceChildren();
    byId('samples-list').replaceChildren();
    byId('generate-output').replaceChildren();
    byId<HTMLProgressElement>('run-progress').removeAttribute('value');
    show(byId('data-section'), false);
    show(byId('samples-section'), false);
    show(byId('links'), false);
    byId('run-stop').onclick = () => this.act(() => api.stop(this.id));
    byId('run-resume').onclick = () => this.act(() => api.resume(this.id));
  }

  async open(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      this.fail(err);
      return;
    }
    void this.follow();
  }

  close(): void {
    this.abort.abort();
  }

  get current(): RunState | undefined {
    return this.state;
  }

  /** the events stream, reconnected after a drop while the page shows this run */
  private async follow(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        for await (const message of readSse(await api.events(this.id, signal))) this.onMessage(message.event, message.data);
      } catch {
        if (signal.aborted) return; // otherwise: the server went away; try again below
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (signal.aborted) return;
      await this.refresh().catch(() => undefined);
    }
  }

  private onMessage(name: string, data: string): void {
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not JSON: nothing the page shows
    }
    const m = message as Partial<RunEvent> & { type?: string };
    if (m.type === 'status' && 'run' in m && m.run) this.applyState(m.run);
    else if (m.type === 'train' && 'event' in m && m.event) this.applyEvent(m.event);
    else if (name === 'status' && (message as RunState).status) this.applyState(message as RunState);
    else if (typeof m.type === 'string') this.applyEvent(message as TrainEvent);
  }

  /**
   * The run's state, asked of the server: shown unless another came meanwhile. The
   * event stream's status can overtake the answer: on a busy machine the answer to the
   * request that the 'saved' event makes, given just before the run ended, came after
   * the stream's 'done' and undid it, and the page showed "Training" for good (CI, 2026-12-01).
   */
  private async refresh(): Promise<void> {
    const before = this.shown;
    const state = await api.run(this.id);
    if (this.shown === before) this.applyState(state);
  }

  private applyState(state: RunState): void {
    this.shown++;
    this.state = state;
    byId('run-status').textContent = STATUS_TEXT[state.status] ?? state.status;
    byId('run-status').className = `badge badge-${state.status}`;
    const options = Object.entries(state.request.options).map(([name, value]) => `${name} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
    byId('run-meta').textContent = [state.request.sources.join(', '), `base ${state.request.base}`, ...(options.length ? [options.join(', ')] : []), `created ${formatTime(state.createdAt)}`].join(' · ');
    byId('run-error').textContent = state.error ?? '';
    show(byId('run-error'), Boolean(state.error));
    if (state.dataset) this.showDataset(state.dataset.stats, state.dataset.warnings);
    if (state.device) byId('stat-device').textContent = state.device;
    if (state.progress) {
      this.totalSteps = Math.max(this.totalSteps, state.progress.totalSteps);
      this.chart.setTotal(this.totalSteps);
    }
    for (const row of state.metrics) this.addRow(row, this.totalSteps);
    for (const v of state.validation) this.addValidation(v.when, v.loss);
    if (state.progress && !this.last) byId('stat-eta').textContent = formatDuration(state.progress.etaSeconds);
    if (state.samples.length > 0) this.showSamples(state.samples);
    this.showControls();
    this.announce(true);
    this.onState(state);
  }

  private applyEvent(event: TrainEvent): void {
    switch (event.type) {
      case 'download':
        this.note(`Downloading the base model: ${event.file}, ${formatBytes(event.received)}${event.total ? ` of ${formatBytes(event.total)}` : ''}`, 'download');
        break;
      case 'device':
        byId('stat-device').textContent = event.device;
        if (event.fallbackOps.length > 0) this.note(`Operations the device lacks run on the CPU: ${event.fallbackOps.join(', ')}`);
        break;
      case 'dataset':
        this.showDataset(event.stats, event.warnings);
        break;
      case 'start':
        this.totalSteps = event.totalSteps;
        this.first = undefined; // a resumed run's speed is measured afresh
        this.chart.setTotal(event.totalSteps);
        break;
      case 'step':
        this.totalSteps = Math.max(this.totalSteps, event.totalSteps);
        this.addRow(event.row, event.totalSteps);
        this.announce(false);
        break;
      case 'validation':
        this.addValidation(event.when, event.loss);
        break;
      case 'checkpoint':
        this.note(`Checkpoint written at step ${event.step}`, 'checkpoint');
        break;
      case 'note':
        this.note(event.message);
        break;
      case 'samples':
        this.showSamples(event.samples);
        break;
      case 'weights':
      case 'saved':
        // the model folder exists now: the state says so, with its name
        this.refresh().catch(() => {});
        break;
    }
  }

  private addRow(row: RunState['metrics'][number], totalSteps: number): void {
    this.chart.addRow(row, totalSteps);
    if (!this.first || row.step < this.first.step) this.first = { step: row.step, elapsed: row.elapsed };
    if (!this.last || row.step >= this.last.step) this.last = { step: row.step, elapsed: row.elapsed, loss: row.loss, tokensPerSecond: row.tokensPerSecond };
    if (row.validLoss !== undefined) this.validLoss = row.validLoss;
    this.showNumbers();
  }

  private addValidation(when: 'before' | 'after', loss: number): void {
    this.chart.addValidation({ step: when === 'before' ? 0 : this.totalSteps || (this.last?.step ?? 0), loss });
    this.validLoss = loss;
    this.showNumbers();
  }

  private showNumbers(): void {
    const last = this.last;
    const total = this.totalSteps || last?.step || 0;
    byId('stat-step').textContent = last ? `${formatCount(last.step)} of ${formatCount(total)}` : '–';
    byId('stat-loss').textContent = formatLoss(last?.loss);
    byId('stat-valid').textContent = formatLoss(this.validLoss);
    byId('stat-speed').textContent = last ? `${formatCount(Math.round(last.tokensPerSecond))} tok/s` : '–';
    const progress = byId<HTMLProgressElement>('run-progress');
    if (last && total > 0) {
      progress.max = total;
      progress.value = last.step;
    }
    if (last && this.first && last.step > this.first.step) {
      const perStep = (last.elapsed - this.first.elapsed) / (last.step - this.first.step);
      byId('stat-eta').textContent = last.step >= total ? 'finished' : formatDuration((total - last.step) * perStep);
    }
  }

  /** the live region: on a status change, and every tenth of the run, not at every step */
  private announce(statusChanged: boolean): void {
    const state = this.state;
    if (!state) return;
    const total = this.totalSteps;
    const step = this.last?.step ?? 0;
    const tenth = total > 0 ? Math.floor((10 * step) / total) : 0;
    if (!statusChanged && tenth === this.lastAnnounced) return;
    this.lastAnnounced = tenth;
    const where = step > 0 ? `, step ${step} of ${total}, loss ${formatLoss(this.last?.loss)}` : '';
    byId('run-live').textContent = `${STATUS_TEXT[state.status] ?? state.status}${where}.`;
  }

  private showDataset(stats: DatasetStats, warnings: string[]): void {
    const table = dataTable(stats.users);
    const caption = h('caption', {}, `Training data: ${formatCount(stats.trainTokens)} tokens in ${formatCount(stats.trainBlocks)} blocks`);
    const head = h('thead', {}, h('tr', {}, ...table.head.map((cell) => h('th', { scope: 'col' }, cell))));
    const body = h('tbody', {}, ...table.rows.map((row) => h('tr', {}, h('th', { scope: 'row' }, row.label), ...row.counts.map((n) => h('td', {}, formatCount(n))))));
    byId('data-table').replaceChildren(caption, head, body);
    byId('data-warnings').replaceChildren(...warnings.map((w) => h('li', {}, w)));
    show(byId('data-section'), true);
  }

  private showSamples(samples: Sample[]): void {
    byId('samples-list').replaceChildren(...samples.map((sample) => sampleItem(sample.text)));
    show(byId('samples-section'), samples.length > 0);
  }

  private showControls(): void {
    const state = this.state!;
    const stop = byId<HTMLButtonElement>('run-stop');
    const resume = byId<HTMLButtonElement>('run-resume');
    const focused = document.activeElement;
    show(stop, state.status === 'running' || state.status === 'queued');
    show(resume, (state.status === 'stopped' || state.status === 'interrupted') && state.resumable);
    // Stop and Resume take each other's place: the focus goes along rather than back to the top
    if (focused === stop && stop.hidden && !resume.hidden) resume.focus();
    if (focused === resume && resume.hidden && !stop.hidden) stop.focus();
    const links = runLinks(this.id);
    byId<HTMLAnchorElement>('link-card').href = links.card;
    byId<HTMLAnchorElement>('link-report').href = links.report;
    byId<HTMLAnchorElement>('link-download').href = links.download;
    show(byId('links'), state.status === 'done' && Boolean(state.model));
    const canGenerate = Boolean(state.model) && state.status === 'done';
    byId<HTMLButtonElement>('generate-submit').disabled = !canGenerate;
    byId('generate-hint').textContent = canGenerate ? '' : 'Generating opens once the run is done.';
  }

  private note(message: string, key?: string): void {
    const notes = byId('run-notes');
    const existing = key ? notes.querySelector(`[data-key="${key}"]`) : null;
    if (existing) existing.textContent = message;
    else notes.append(h('li', { 'data-key': key }, message));
  }

  private async act(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      await this.refresh();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    byId('run-error').textContent = (err as Error).message ?? String(err);
    show(byId('run-error'), true);
  }
}

/** a post with its Tweet button (the original tool's: a tweet-intent link) */
export function sampleItem(text: string): HTMLLIElement {
  return h(
    'li',
    { class: 'sample' },
    h('p', {}, text),
    h('a', { class: 'button tweet', href: tweetIntentUrl(text), target: '_blank', rel: 'noopener noreferrer', 'aria-label': `Tweet: ${text.slice(0, 60)}` }, 'Tweet'),
  );
}

