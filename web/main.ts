// The page of `tweetsmith serve`: a new run's form (sources, base, settings),
// the run on show (#run=<id> in the URL, so a reload or a second tab shows the
// same run), and the past runs. Everything it knows comes from the HTTP API.
import { api } from './api.js';
import type { Defaults, RunState } from './api-types.js';
import { byId, show } from './dom.js';
import { GenerateBox } from './generate-box.js';
import { LossChart } from './loss-chart.js';
import { renderPastRuns } from './past-runs.js';
import { RunView } from './run-view.js';
import { SettingsForm } from './settings-form.js';
import { SourcesPanel } from './sources-panel.js';

let view: RunView | undefined;
let runs: RunState[] = [];

function runIdFromHash(): string | undefined {
  const match = /^#run=([^&]+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

async function main(): Promise<void> {
  let defaults: Defaults;
  try {
    defaults = await api.defaults();
  } catch (err) {
    byId('form-error').textContent = `The server did not answer: ${(err as Error).message}`;
    return;
  }
  const chart = new LossChart(byId('chart'));
  const settings = new SettingsForm(defaults);
  const start = byId<HTMLButtonElement>('start');
  // (the panel calls back from its constructor, before `sources` is assigned)
  let sources: SourcesPanel | undefined;
  sources = new SourcesPanel(
    () => defaults.maxUploadBytes,
    () => (start.disabled = sources?.values() === undefined),
  );
  new GenerateBox(defaults, () => view?.id);

  const refreshRuns = async () => {
    try {
      runs = await api.runs();
    } catch {
      return; // the list stays as it was; the next refresh tries again
    }
    renderPastRuns(runs, view?.id);
    settings.setRuns(runs);
  };

  const openFromHash = () => {
    // in-page links (the skip link) change the hash too: only #run=… and an empty hash route
    if (location.hash && !location.hash.startsWith('#run=')) return;
    const id = runIdFromHash();
    if (id === view?.id) return;
    view?.close();
    view = undefined;
    show(byId('run'), Boolean(id));
    show(byId('no-run'), !id);
    if (id) {
      let lastStatus = '';
      view = new RunView(id, chart, (state) => {
        if (state.status !== lastStatus) void refreshRuns();
        lastStatus = state.status;
      });
      void view.open();
    }
    renderPastRuns(runs, id);
  };

  byId<HTMLFormElement>('new-run').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = byId('form-error');
    error.textContent = '';
    const values = sources!.values();
    if (!values) {
      error.textContent = 'Add a source first (and wait for its upload).';
      return;
    }
    start.disabled = true;
    try {
      const { id } = await api.createRun({ sources: values, base: settings.base(), options: settings.options() });
      location.hash = `run=${encodeURIComponent(id)}`;
      openFromHash();
      byId('run-title').focus();
      void refreshRuns();
    } catch (err) {
      error.textContent = (err as Error).message;
    } finally {
      start.disabled = sources!.values() === undefined;
    }
  });

  window.addEventListener('hashchange', openFromHash);
  openFromHash();
  await refreshRuns();
  // other tabs and queued runs change the list too
  setInterval(() => document.visibilityState === 'visible' && void refreshRuns(), 10_000);
}

void main();
