// One benchmark workload in a process of its own, so that its peak RSS is its own:
// `node workload-child.js '<json options>'` prints one JSON result line on stdout.
import { benchEngine, benchPerplexity, type EngineBenchOptions } from './engine.js';
import { benchTokenizer } from './tokenizer.js';
import type { DeviceRequest } from '../engine/device.js';

export type WorkloadRequest =
  | { kind: 'engine'; options: EngineBenchOptions }
  | { kind: 'perplexity'; size: string; model?: string; text?: string; threads: number; device?: DeviceRequest }
  | { kind: 'tokenizer'; bytes: number; repeats: number };

const request = JSON.parse(process.argv[2] ?? '{}') as WorkloadRequest;
const log = (line: string) => process.stderr.write(`  ${line}\n`);
const result =
  request.kind === 'tokenizer'
    ? { ...(await benchTokenizer({ bytes: request.bytes, repeats: request.repeats })), peakRssMiB: process.resourceUsage().maxRSS / 1024 }
    : request.kind === 'perplexity'
      ? await benchPerplexity(request)
      : await benchEngine({ ...request.options, log });
process.stdout.write(JSON.stringify(result) + '\n');
