// What each kind of folder tweetsmith writes may hold, and how to recognise one
// written before the marker file existed. safe-output.ts replaces or removes a
// folder only when every entry in it is named here: a file a user put into an
// output folder makes the folder theirs, and it is never deleted.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATASET_FILES, DATASET_FORMAT } from '../data/dataset-files.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../model/lora-adapter.js';
import { CONFIG_FILE, GENERATION_CONFIG_FILE, TOKENIZER_FILES, WEIGHTS_FILE } from '../model/model-files.js';
import { RUN_RECORD_DIR, RUN_RECORD_FILES, RUN_RECORD_FORMAT } from '../report/run-record-files.js';
import { CHECKPOINT_FILES } from '../train/checkpoint-files.js';

export const OUTPUT_KINDS = ['model', 'dataset', 'checkpoint'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** The marker tweetsmith writes into every output folder: `{"format": OUTPUT_FORMAT, "kind": …}`. */
export const OUTPUT_MARKER = '.tweetsmith-output.json';
export const OUTPUT_FORMAT = 'tweetsmith-output';

/**
 * run-record.ts and writeFileIntoOutput write a file under `.NAME.PID-HEX.tmp`
 * and rename it: a crash in between leaves one, which is still tweetsmith's.
 */
export const OUTPUT_TEMP_FILE = /^\.[^/\\]+\.\d+-[0-9a-f]{8}\.tmp$/;

// a LoRA run writes the adapter (PEFT's two files) in place of config and weights
const MODEL_FILES = [CONFIG_FILE, WEIGHTS_FILE, GENERATION_CONFIG_FILE, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, ...TOKENIZER_FILES];

interface Layout {
  /** file names allowed at the top level */
  files: ReadonlySet<string>;
  /** sub-folders allowed, each with a test of its entries' names */
  folders: ReadonlyMap<string, (name: string) => boolean>;
  /**
   * Recognises this kind without a marker, as written by an earlier tweetsmith:
   * by a file only tweetsmith writes. Conservative: a Hugging Face model folder
   * that tweetsmith did not write has no such file and is not recognised.
   */
  legacy: (dir: string, entries: readonly string[]) => Promise<boolean>;
}

const runRecordNames = new Set<string>(Object.values(RUN_RECORD_FILES));

async function jsonField(file: string, field: string): Promise<unknown> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    return value && typeof value === 'object' ? value[field] : undefined;
  } catch {
    return undefined;
  }
}

export const OUTPUT_LAYOUTS: Record<OutputKind, Layout> = {
  model: {
    files: new Set([...MODEL_FILES, 'README.md', OUTPUT_MARKER]),
    folders: new Map([[RUN_RECORD_DIR, (name: string) => runRecordNames.has(name) || OUTPUT_TEMP_FILE.test(name)]]),
    // a trained model: its run record says tweetsmith wrote it
    legacy: async (dir, entries) =>
      entries.includes(RUN_RECORD_DIR) && (await jsonField(join(dir, RUN_RECORD_DIR, RUN_RECORD_FILES.config), 'format')) === RUN_RECORD_FORMAT,
  },
  dataset: {
    files: new Set([...Object.values(DATASET_FILES), OUTPUT_MARKER]),
    folders: new Map(),
    legacy: async (dir, entries) =>
      entries.includes(DATASET_FILES.stats) && (await jsonField(join(dir, DATASET_FILES.stats), 'format')) === DATASET_FORMAT,
  },
  checkpoint: {
    files: new Set([...MODEL_FILES, ...Object.values(CHECKPOINT_FILES), OUTPUT_MARKER]),
    folders: new Map(),
    // AdamW's moments in safetensors beside state.json are tweetsmith's own format
    legacy: async (dir, entries) =>
      entries.includes(CHECKPOINT_FILES.state) &&
      entries.includes(CHECKPOINT_FILES.adamM) &&
      typeof (await jsonField(join(dir, CHECKPOINT_FILES.state), 'step')) === 'number',
  },
};
