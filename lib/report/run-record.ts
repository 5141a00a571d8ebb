// Writing the run record (see run-record-files.ts for what each file holds).
//
// Each file is written under a temporary name in the same folder and renamed
// over its final name: a reader, or a crash halfway, never sees half a file.
// The hashes are of the bytes written, so `sha256sum run/train.txt` checks them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReportHtml } from './report-html.js';
import { RUN_RECORD_FILES, RUN_RECORD_FORMAT } from './run-record-files.js';
import type { RunSummary } from '../train/run-summary.js';

export interface RunRecordFiles {
  /** Every post as read, one JSON object a line. */
  postsJsonl: string;
  /** The training text. */
  trainText: string;
  /** The validation text, when there is a validation split. */
  validText?: string;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function writeAtomically(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const target = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Writes the run record into `runDir` (created if needed) and returns the
 * sha256 of posts.jsonl, train.txt and valid.txt. config.json and report.html
 * carry those hashes too, merged over any the summary already had; pass the
 * returned hashes on to renderModelCard so the card lists them as well.
 */
export async function writeRunRecord(runDir: string, summary: RunSummary, files: RunRecordFiles): Promise<Record<string, string>> {
  await mkdir(runDir, { recursive: true });
  const data: Array<[name: string, text: string]> = [
    [RUN_RECORD_FILES.posts, files.postsJsonl],
    [RUN_RECORD_FILES.trainText, files.trainText],
    ...(files.validText !== undefined ? [[RUN_RECORD_FILES.validText, files.validText] as [string, string]] : []),
  ];
  const hashes: Record<string, string> = {};
  for (const [name, text] of data) {
    const bytes = Buffer.from(text, 'utf8');
    hashes[name] = sha256(bytes);
    await writeAtomically(runDir, name, bytes);
  }
  // A valid.txt left by an earlier run into this folder would belong to another dataset.
  if (files.validText === undefined) await rm(join(runDir, RUN_RECORD_FILES.validText), { force: true });

  const full: RunSummary = { ...summary, hashes: { ...summary.hashes, ...hashes } };
  const { metrics, samples, ...config } = full;
  await writeAtomically(runDir, RUN_RECORD_FILES.config, `${JSON.stringify({ format: RUN_RECORD_FORMAT, formatVersion: 1, ...config }, null, 2)}\n`);
  await writeAtomically(runDir, RUN_RECORD_FILES.metrics, metrics.map((row) => `${JSON.stringify(row)}\n`).join(''));
  await writeAtomically(runDir, RUN_RECORD_FILES.samples, `${JSON.stringify(samples, null, 2)}\n`);
  await writeAtomically(runDir, RUN_RECORD_FILES.report, renderReportHtml(full));
  return hashes;
}
