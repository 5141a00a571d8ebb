// `tweetsmith serve` as a command: its help, the URL on stdout, the warning for
// a non-loopback host, --max-upload's sizes, and SIGTERM, which stops the run
// that trains with a checkpoint so that the next server shows it interrupted
// and resumable.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseByteSize } from '../lib/serve/http/uploads.js';
import { startServer } from '../lib/serve/server.js';
import { call, eventStream, startServeProcess, upload } from './helpers/serve-client.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'tweetsmith.js');

test('--max-upload sizes', (t) => {
  t.is(parseByteSize('512MB'), 512 * 1024 * 1024);
  t.is(parseByteSize('4 GB'), 4 * 1024 ** 3);
  t.is(parseByteSize('1.5k'), 1536);
  t.is(parseByteSize('1048576'), 1048576);
  for (const bad of ['', 'lots', '-1MB', '0', '5 PB']) t.throws(() => parseByteSize(bad), undefined, bad);
});

test('serve --help names every option', (t) => {
  const help = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' });
  t.is(help.status, 0, help.stderr);
  for (const option of ['--port', '--host', '--dir', '--open', '--max-upload', '--threads', '--checkpoint-every']) t.true(help.stdout.includes(option), option);
});

test('serve on 0.0.0.0 warns; SIGTERM stops the training run with a checkpoint and exits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tweetsmith-serve-cli-'));
  const server = await startServeProcess(['--host', '0.0.0.0', '--port', '0', '--dir', dir, '--threads', '1', '--max-upload', '64KB'], (fn) => t.teardown(fn));
  const { url, port, child } = server;
  t.regex(url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
  t.regex(server.stderr(), /WARNING: listening on 0\.0\.0\.0: anyone/);

  t.is((await call(port, 'GET', '/api/defaults')).json.maxUploadBytes, 64 * 1024);
  t.is((await upload(port, 'big.txt', Buffer.alloc(65 * 1024, 'a'))).status, 413);
  const up = await upload(port, 'posts.txt', readFileSync(join(root, 'demo', 'posts.txt')).subarray(0, 20_000));
  t.is(up.status, 200, up.text);
  const created = await call(port, 'POST', '/api/runs', { json: { sources: [up.json.id], base: 'tiny', options: { maxSteps: 500, blockSize: 32, samples: 0 } } });
  t.is(created.status, 200, created.text);
  const events = await eventStream(port, `/api/runs/${created.json.id}/events`);
  await events.until((e) => e.event === 'train' && e.data.event.type === 'step');
  child.kill('SIGTERM');
  t.is(await server.exited, 0, server.stderr());
  events.close();
  t.regex(server.stderr(), /SIGTERM: stopping the training run with a checkpoint/);

  const next = await startServer({ dir, port: 0, threads: 1 });
  t.teardown(() => next.close());
  const state = await call(next.port, 'GET', `/api/runs/${created.json.id}`);
  t.is(state.json.status, 'interrupted', state.text);
  t.true(state.json.resumable);
});
