// The child of the kill -9 test (kill-safety.test.ts): writes a model, a dataset
// and a checkpoint into DIR over and over, alternating two versions of each, as
// fast as it can. It prints "ready <ms>" once every output exists, with how long
// that first cycle took; the test then kills it with SIGKILL at a random instant.
import { KILL_TEST_VERSIONS, versionModels, writeVersion } from './kill-test-outputs.js';

const dir = process.argv[2]!;
const models = await versionModels();
let v = Number(process.argv[3] ?? 0);
const t0 = performance.now();
await writeVersion(dir, KILL_TEST_VERSIONS[v++ % 2]!, models);
process.stdout.write(`ready ${Math.ceil(performance.now() - t0)}\n`);
for (;;) await writeVersion(dir, KILL_TEST_VERSIONS[v++ % 2]!, models);
