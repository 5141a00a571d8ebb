// The Generate box: posts from a finished run's model, streamed as they grow
// (POST /api/generate with Accept: text/event-stream). The output list is a live
// region marked busy while text streams in, so a screen reader reads the posts
// once they are finished rather than every token.
import { api } from './api.js';
import type { Defaults } from './api-types.js';
import { byId, h } from './dom.js';
import { sampleItem } from './run-view.js';
import { readSse } from './sse.js';

export class GenerateBox {
  private readonly form = byId<HTMLFormElement>('generate-form');
  private readonly output = byId<HTMLOListElement>('generate-output');
  private readonly submit = byId<HTMLButtonElement>('generate-submit');
  private readonly cancel = byId<HTMLButtonElement>('generate-cancel');
  private readonly error = byId('generate-error');
  private abort?: AbortController;

  constructor(
    defaults: Defaults,
    private readonly runId: () => string | undefined,
  ) {
    const set = (id: string, value: number | string) => (byId<HTMLInputElement>(id).value = String(value));
    set('gen-prompt', defaults.sampling.prompt);
    set('gen-n', Math.min(defaults.sampling.n, 10));
    set('gen-temperature', defaults.sampling.temperature);
    set('gen-top-p', defaults.sampling.topP);
    set('gen-max-length', defaults.sampling.maxLength);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.generate();
    });
    this.cancel.addEventListener('click', () => this.abort?.abort());
  }

  private number(id: string, label: string, min: number, max: number, integer: boolean): number | undefined {
    const raw = byId<HTMLInputElement>(id).value.trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      byId(id).focus();
      throw new Error(`${label}: "${raw}" is not ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
    }
    return value;
  }

  private async generate(): Promise<void> {
    const run = this.runId();
    if (!run) return;
    this.error.textContent = '';
    let body;
    try {
      body = {
        run,
        prompt: byId<HTMLInputElement>('gen-prompt').value,
        n: this.number('gen-n', 'Posts', 1, 50, true) ?? 1,
        temperature: this.number('gen-temperature', 'Temperature', 0, 10, false) ?? 1,
        topP: this.number('gen-top-p', 'Top-p', 0, 1, false) ?? 0.95,
        maxLength: this.number('gen-max-length', 'Max length', 1, 4096, true),
        seed: this.number('gen-seed', 'Seed', 0, 2 ** 31 - 1, true),
      };
    } catch (err) {
      this.error.textContent = (err as Error).message;
      return;
    }
    this.abort = new AbortController();
    this.submit.disabled = true;
    this.cancel.hidden = false;
    this.output.setAttribute('aria-busy', 'true');
    const texts: string[] = Array.from({ length: body.n }, () => body.prompt);
    const items = texts.map((text) => h('li', { class: 'sample streaming' }, h('p', {}, text)));
    this.output.replaceChildren(...items);
    const setText = (sequence: number, text: string) => {
      if (sequence < 0 || sequence >= texts.length) return;
      texts[sequence] = text;
      items[sequence]!.querySelector('p')!.textContent = text;
    };
    let final: string[] | undefined;
    try {
      const response = await api.generate(body, this.abort.signal);
      if ((response.headers.get('content-type') ?? '').includes('text/event-stream') && response.body) {
        for await (const message of readSse(response.body)) {
          const data = JSON.parse(message.data) as { type?: string; sequence?: number; text?: string; token?: string; samples?: string[]; error?: string };
          if (message.event === 'error' || data.type === 'error' || typeof data.error === 'string') throw new Error(data.error ?? 'generation failed');
          if (Array.isArray(data.samples)) final = data.samples;
          else if (typeof data.sequence === 'number' && typeof data.text === 'string') setText(data.sequence, data.text);
          else if (typeof data.sequence === 'number' && typeof data.token === 'string') setText(data.sequence, texts[data.sequence] + data.token);
        }
      } else {
        final = ((await response.json()) as { samples: string[] }).samples;
      }
      const done = final ?? texts;
      this.output.replaceChildren(...done.map((text) => sampleItem(text)));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error.textContent = (err as Error).message;
      for (const item of items) item.classList.remove('streaming');
    } finally {
      this.output.setAttribute('aria-busy', 'false');
      this.submit.disabled = false;
      this.cancel.hidden = true;
    }
  }
}
