// The base model and the training settings of a new run. Each field starts at
// the library's default as GET /api/defaults reports it (lib/defaults.ts: the
// original tool's), and only the options the server allows are offered.
import type { Defaults, RunState } from './api-types.js';
import { byId, h } from './dom.js';

type FieldKind = 'number' | 'select';
interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  /** for numbers: the input's min and step; for selects: the choices */
  min?: number;
  max?: number;
  step?: string;
  choices?: string[];
  /** what an empty field means, as its placeholder */
  blank?: string;
  help?: string;
  advanced?: boolean;
  integer?: boolean;
}

const FIELDS: FieldSpec[] = [
  { name: 'epochs', label: 'Epochs', kind: 'number', min: 1, step: '1', integer: true, help: 'shuffled copies of the posts in the training text' },
  { name: 'lr', label: 'Learning rate', kind: 'number', min: 0, step: 'any', help: "fine-tuning's; the tiny demo model trains at the demo's rate unless this is changed" },
  { name: 'maxSteps', label: 'Max steps', kind: 'number', min: 1, step: '1', integer: true, blank: 'all of them', help: 'stop after this many optimizer steps' },
  { name: 'validSplit', label: 'Validation split', kind: 'number', min: 0, max: 0.9, step: '0.05', help: 'fraction of the posts held out for validation loss' },
  { name: 'precision', label: 'Precision', kind: 'select', choices: ['fp32', 'bf16'] },
  { name: 'device', label: 'Device', kind: 'select', choices: ['auto', 'cpu', 'vulkan', 'cuda'] },
  { name: 'schedule', label: 'Schedule', kind: 'select', choices: ['cosine', 'linear', 'constant'], advanced: true },
  { name: 'warmup', label: 'Warm-up (fraction of steps)', kind: 'number', min: 0, max: 1, step: 'any', advanced: true },
  { name: 'batchSize', label: 'Batch size', kind: 'number', min: 1, step: '1', integer: true, advanced: true },
  { name: 'gradAccum', label: 'Gradient accumulation', kind: 'number', min: 1, step: '1', integer: true, advanced: true },
  { name: 'blockSize', label: 'Block size (tokens)', kind: 'number', min: 8, step: '1', integer: true, blank: "the model's context", advanced: true },
  { name: 'seed', label: 'Seed', kind: 'number', min: 0, step: '1', integer: true, blank: 'random', advanced: true },
  { name: 'samples', label: 'Samples in the card', kind: 'number', min: 0, step: '1', integer: true, advanced: true },
];

export class SettingsForm {
  private readonly basic = byId('settings-basic');
  private readonly advanced = byId('settings-advanced');
  private readonly inputs = new Map<string, { spec: FieldSpec; input: HTMLInputElement | HTMLSelectElement }>();
  private readonly lora = byId<HTMLInputElement>('lora-enabled');
  private readonly loraRank = byId<HTMLInputElement>('lora-rank');
  private readonly loraAlpha = byId<HTMLInputElement>('lora-alpha');
  private readonly runSelect = byId<HTMLSelectElement>('base-run-select');

  constructor(defaults: Defaults) {
    const allowed = defaults.options ? new Set(defaults.options) : undefined;
    for (const spec of FIELDS) {
      if (allowed && !allowed.has(spec.name)) continue;
      const id = `opt-${spec.name}`;
      const value = defaults.train[spec.name] ?? (spec.name === 'device' ? 'auto' : undefined);
      const input =
        spec.kind === 'select'
          ? h('select', { id, name: spec.name }, ...spec.choices!.map((choice) => h('option', { value: choice, selected: choice === value }, choice)))
          : h('input', {
              id,
              name: spec.name,
              type: 'number',
              inputmode: spec.integer ? 'numeric' : 'decimal',
              min: spec.min,
              max: spec.max,
              step: spec.step,
              value: value === undefined ? undefined : String(value),
              placeholder: spec.blank,
              'aria-describedby': spec.help ? `${id}-help` : undefined,
            });
      input.dataset.default = input.value;
      const field = h('div', { class: 'field' }, h('label', { for: id }, spec.label), input, spec.help ? h('small', { id: `${id}-help` }, spec.help) : null);
      (spec.advanced ? this.advanced : this.basic).append(field);
      this.inputs.set(spec.name, { spec, input });
    }
    const loraAllowed = !allowed || allowed.has('lora');
    byId('lora-fields').hidden = !loraAllowed;
    if (defaults.lora) {
      this.loraRank.value = String(defaults.lora.rank);
      this.loraAlpha.value = String(defaults.lora.alpha);
    }
    const sync = () => {
      this.loraRank.disabled = !this.lora.checked;
      this.loraAlpha.disabled = !this.lora.checked;
    };
    this.lora.addEventListener('change', sync);
    sync();
    // choosing a hub id or a past run's model selects its radio button
    byId('base-hub-id').addEventListener('input', () => (byId<HTMLInputElement>('base-hub').checked = true));
    this.runSelect.addEventListener('change', () => (byId<HTMLInputElement>('base-run').checked = true));
  }

  /** finished runs with a model become choices of base */
  setRuns(runs: RunState[]): void {
    const withModel = runs.filter((run) => run.status === 'done' && run.model);
    const selected = this.runSelect.value;
    this.runSelect.replaceChildren(
      ...(withModel.length === 0 ? [h('option', { value: '' }, 'no finished run yet')] : withModel.map((run) => h('option', { value: run.id, selected: run.id === selected }, `${run.id}: ${run.request.sources.join(', ')}`))),
    );
    byId<HTMLInputElement>('base-run').disabled = withModel.length === 0;
  }

  /** the base as POST /api/runs takes it: a hub id, 'tiny', or a finished run's id (its model) */
  base(): string {
    const choice = document.querySelector<HTMLInputElement>('input[name="base"]:checked')?.value ?? 'tiny';
    if (choice === 'hub') {
      const id = byId<HTMLInputElement>('base-hub-id').value.trim();
      if (!id) throw new Error('Base model: type a hub id such as gpt2, or choose another base.');
      return id;
    }
    if (choice === 'run') {
      const run = this.runSelect.value;
      if (!run) throw new Error("Base model: no finished run to start from yet.");
      return run;
    }
    return 'tiny';
  }

  /**
   * The options the user changed, checked. A field left at its default, or
   * empty, is not sent: the server applies the library's default, or the one
   * its base calls for (the tiny demo model trains at the demo's larger rate).
   */
  options(): Record<string, unknown> {
    const options: Record<string, unknown> = {};
    for (const [name, { spec, input }] of this.inputs) {
      const raw = input.value.trim();
      if (raw === '' || raw === input.dataset.default) continue;
      if (spec.kind === 'select') {
        options[name] = raw;
        continue;
      }
      const value = Number(raw);
      if (!Number.isFinite(value) || (spec.integer && !Number.isInteger(value)) || (spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        input.focus();
        const range = [spec.min !== undefined ? `at least ${spec.min}` : '', spec.max !== undefined ? `at most ${spec.max}` : ''].filter(Boolean).join(' and ');
        throw new Error(`${spec.label}: "${raw}" is not ${spec.integer ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}.`);
      }
      options[name] = value;
    }
    if (this.lora.checked && !byId('lora-fields').hidden) {
      options.lora = { rank: Number(this.loraRank.value), alpha: Number(this.loraAlpha.value) };
    }
    return options;
  }
}
