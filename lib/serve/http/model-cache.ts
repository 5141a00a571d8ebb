// The models generation uses, loaded once and kept: loading a model costs far
// more than sampling a few posts from it. A few are kept (SERVE_DEFAULTS.
// modelCache), the least recently used leaves first and is disposed as soon as
// no generation still holds it. A model folder that a resumed run has
// rewritten since is loaded again (the key holds its weights' modification time).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2 } from '../../engine/gpt2.js';
import { modelTokenizer } from '../../model/model-tokenizer.js';
import type { Tokenizer } from '../../tokenizer/index.js';

export interface LoadedModel {
  model: GPT2;
  tokenizer: Tokenizer;
}

interface Entry {
  key: string;
  loaded: Promise<LoadedModel>;
  users: number;
  evicted: boolean;
}

/** The weights file's modification time: it changes when a run writes the folder again. */
function version(dir: string): string {
  for (const file of ['model.safetensors', 'adapter_model.safetensors']) {
    try {
      return `${file}@${statSync(join(dir, file)).mtimeMs}`;
    } catch {
      /* the other layout */
    }
  }
  return 'none';
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>(); // oldest use first
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly threads: number | undefined,
  ) {}

  /** Runs `work` with the folder's model; the model stays loaded for the next request. */
  async use<T>(dir: string, work: (loaded: LoadedModel) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the server is closing');
    const key = `${dir}\0${version(dir)}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // to the back: the newest use
    } else {
      entry = { key, loaded: load(dir, this.threads), users: 0, evicted: false };
      // a failed load is not kept: the next request tries again and gets its own error
      entry.loaded.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    }
    this.entries.set(key, entry);
    // stale versions of this folder, and the least recently used beyond capacity, leave
    for (const other of [...this.entries.values()]) {
      if (other !== entry && other.key.startsWith(`${dir}\0`)) this.evict(other);
    }
    while (this.entries.size > this.capacity) this.evict(this.entries.values().next().value!);
    entry.users++;
    try {
      return await work(await entry.loaded);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) await dispose(entry);
    }
  }

  /** Disposes every model once its generations are done. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) entry.evicted = true;
    await Promise.all(all.filter((e) => e.users === 0).map(dispose));
  }

  private evict(entry: Entry): void {
    this.entries.delete(entry.key);
    entry.evicted = true;
    if (entry.users === 0) void dispose(entry);
  }
}

async function load(dir: string, threads: number | undefined): Promise<LoadedModel> {
  const model = await GPT2.load(dir, { threads });
  try {
    return { model, tokenizer: (await modelTokenizer(dir, model.config)).tokenizer };
  } catch (err) {
    await model.dispose();
    throw err;
  }
}

async function dispose(entry: Entry): Promise<void> {
  try {
    await (await entry.loaded).model.dispose();
  } catch {
    /* a model that failed to load has nothing to dispose */
  }
}
