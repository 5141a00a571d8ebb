// The models POST /api/generate samples with: loaded once and kept, the least
// recently used disposed when a third comes in (not while a generation still
// holds it), a folder rewritten since loaded again, and every model disposed
// at close.
import test from 'ava';
import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2 } from '../lib/engine/gpt2.js';
import { ModelCache, type LoadedModel } from '../lib/serve/http/model-cache.js';

/** Three small model folders (GPT-2's vocabulary, one thin layer). */
async function modelDirs(): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'tweetsmith-serve-cache-'));
  const dirs: string[] = [];
  for (let i = 0; i < 3; i++) {
    const model = await GPT2.init({ nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 16 }, { seed: i, threads: 1 });
    const dir = join(root, `m${i}`);
    await model.save(dir);
    await model.dispose();
    dirs.push(dir);
  }
  return dirs;
}

const works = async (loaded: LoadedModel) => (await loaded.model.logits([1, 2])).length > 0;
const disposed = async (loaded: LoadedModel) => loaded.model.logits([1, 2]).then(() => false, (err: Error) => /disposed/.test(err.message));

test('the cache keeps two models, disposes the least recently used, reloads a rewritten folder, and disposes all at close', async (t) => {
  const [a, b, c] = await modelDirs();
  const cache = new ModelCache(2, 1);
  const first = await cache.use(a!, async (m) => m);
  t.is(await cache.use(a!, async (m) => m), first, 'loaded once');
  const second = await cache.use(b!, async (m) => m);
  await cache.use(a!, async () => undefined); // a is now the most recent
  // c comes in while b is the least recently used: b goes, a stays
  const third = await cache.use(c!, async (m) => m);
  t.true(await disposed(second));
  t.true(await works(first));
  t.true(await works(third));

  // a model in use when it is evicted is disposed only once its generation is done
  await cache.use(b!, async (held) => {
    const evicting = cache.use(a!, async () => cache.use(c!, async () => undefined));
    await evicting; // b (in use) was the least recently used: it leaves the cache but stays usable
    t.true(await works(held));
  });

  // a folder written again since it was loaded is loaded again; the old model is disposed
  const before = await cache.use(c!, async (m) => m);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(c!, 'model.safetensors'), later, later);
  const after = await cache.use(c!, async (m) => m);
  t.not(after, before);
  t.true(await disposed(before));

  await cache.close();
  t.true(await disposed(after));
  await t.throwsAsync(cache.use(a!, async () => undefined), { message: /closing/ });
});
