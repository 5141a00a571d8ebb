// How loadNative() chooses its addon (docs/PACKAGING.md): in a throwaway
// project with tweetsmith "installed" (the loader compiled from lib/, the CPU
// build as its prebuild) and fake GPU variants beside it, each load in a child
// process (the choice is made once per process), with a cache folder of its own.
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ENGINE_DEFAULTS } from '../lib/defaults.js';

const ROOT = join(import.meta.dirname, '..');
const TUPLE = `${process.platform}-${process.arch}`;
const LIBC = process.platform === 'linux' ? ((process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ? '.glibc' : '.musl') : '';
const PREBUILD = `prebuilds/${TUPLE}/node.napi${LIBC}.node`;
const CPU_BUILD = join(ROOT, 'build', 'Release', 'tweetsmith.node');
const VULKAN_BUILD = join(ROOT, 'build', 'vulkan', 'Release', 'tweetsmith.node');
const VULKAN_PACKAGE = `@tweetsmith/${TUPLE}-vulkan`;

const work = mkdtempSync(join(tmpdir(), 'tweetsmith-loader-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

interface Origin {
  kind: string;
  path: string;
  gpu?: string;
  probedDevice?: string;
  notes: string[];
}

/** A project with tweetsmith installed in node_modules: the loader and its prebuild (a copy of the CPU build). */
function makeProject(name: string): { app: string; pkg: string } {
  const app = join(work, name);
  const pkg = join(app, 'node_modules', 'tweetsmith');
  mkdirSync(join(pkg, 'dist', 'engine'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tweetsmith', version: '0.0.0', type: 'module' }));
  for (const [src, dest] of [['lib/engine/native.ts', 'dist/engine/native.js'], ['lib/paths.ts', 'dist/paths.js'], ['lib/defaults.ts', 'dist/defaults.js']]) {
    const js = ts.transpileModule(readFileSync(join(ROOT, src), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(pkg, dest), js);
  }
  place(CPU_BUILD, join(pkg, PREBUILD));
  symlinkSync(join(ROOT, 'node_modules', 'node-gyp-build'), join(app, 'node_modules', 'node-gyp-build'), 'dir');
  return { app, pkg };
}

function place(from: string | Buffer, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  if (typeof from === 'string') copyFileSync(from, to);
  else writeFileSync(to, from);
}

/** A stand-in for @tweetsmith/<platform>-<arch>-<kind>: the real package's layout, `binary` inside. */
function fakeGpuPackage(app: string, kind: 'vulkan' | 'cuda', binary: string | Buffer): string {
  const dir = join(app, 'node_modules', '@tweetsmith', `${TUPLE}-${kind}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@tweetsmith/${TUPLE}-${kind}`, version: '0.0.0' }));
  place(binary, join(dir, PREBUILD));
  return join(dir, PREBUILD);
}

function env(app: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TWEETSMITH_') || ['GGML_VK_VISIBLE_DEVICES', 'NODE_OPTIONS', 'GOMP_SPINCOUNT', 'OMP_WAIT_POLICY'].includes(k)) continue;
    out[k] = v;
  }
  return { ...out, XDG_CACHE_HOME: join(app, 'cache'), ...extra };
}

/** Loads the addon in a child process: where it came from, and missingBackendMessage('vulkan'). */
function load(app: string, extra: Record<string, string> = {}): Promise<{ origin?: Origin; vulkan?: string; error?: string; stderr: string; seconds: number }> {
  const native = pathToFileURL(join(app, 'node_modules', 'tweetsmith', 'dist', 'engine', 'native.js')).href;
  const code =
    `const m = await import(${JSON.stringify(native)});` +
    'try { m.loadNative(); } catch (e) { console.log(JSON.stringify({ error: e.message })); process.exit(0); }' +
    "console.log(JSON.stringify({ origin: m.nativeOrigin(), vulkan: m.missingBackendMessage('vulkan') })); process.exit(0);";
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: app, env: env(app, extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ ...JSON.parse(line), stderr, seconds: (Date.now() - started) / 1000 });
      } catch {
        reject(new Error(`the loader's process exited with ${code}: ${stdout}${stderr}`));
      }
    });
  });
}

const haveCpuBuild = existsSync(CPU_BUILD);
const withBuild = haveCpuBuild ? test : test.skip;
if (!haveCpuBuild) test('the loader tests need the CPU build', (t) => t.pass(`skipped: ${CPU_BUILD} is missing (npm run build:native)`));

// libgomp prints the settings it read when OMP_DISPLAY_ENV is set; a build without OpenMP has nothing to bound
const openMp = haveCpuBuild && readFileSync(CPU_BUILD).includes('libgomp.so');
(openMp ? test : test.skip)("OpenMP's threads spin briefly at a barrier before they sleep, unless the user chose otherwise", async (t) => {
  const { app } = makeProject('app-spin');
  const spinCount = async (extra: Record<string, string>) => {
    const r = await load(app, { OMP_DISPLAY_ENV: 'VERBOSE', TWEETSMITH_GPU: 'off', ...extra });
    t.is(r.error, undefined);
    return /GOMP_SPINCOUNT = '(\d+)'/.exec(r.stderr)?.[1];
  };
  t.is(await spinCount({}), String(ENGINE_DEFAULTS.openMpSpinCount));
  t.is(await spinCount({ GOMP_SPINCOUNT: '5000' }), '5000');
  // OMP_WAIT_POLICY=active asks for a long spin: it is left to libgomp
  t.not(await spinCount({ OMP_WAIT_POLICY: 'active' }), String(ENGINE_DEFAULTS.openMpSpinCount));
});

withBuild('a GPU package whose probe finds no GPU is passed over: the CPU prebuild loads, and the note says why', async (t) => {
  const { app } = makeProject('app-no-gpu');
  fakeGpuPackage(app, 'vulkan', CPU_BUILD);
  const r = await load(app);
  t.is(r.origin?.kind, 'prebuild', JSON.stringify(r));
  t.true(r.origin!.path.endsWith(PREBUILD));
  const note = r.origin!.notes.find((n) => n.startsWith(`${VULKAN_PACKAGE}: `));
  t.truthy(note, r.origin!.notes.join('\n'));
  t.regex(note!, /no GPU device was found|predates the GPU backends/);
  t.log(note);
  // what a user asking for vulkan is told
  t.regex(r.vulkan!, /has no Vulkan backend/);
  t.true(r.vulkan!.includes(`TWEETSMITH_VULKAN=1 npm rebuild tweetsmith`), r.vulkan);
  t.true(r.vulkan!.includes(`passed over:\n  ${VULKAN_PACKAGE}: `), r.vulkan);
  // without a package, it is named as the other way to get Vulkan
  const { app: bare } = makeProject('app-bare');
  const none = await load(bare);
  t.true(none.vulkan!.includes(`install ${VULKAN_PACKAGE}`), none.vulkan);
  t.true(none.vulkan!.includes('TWEETSMITH_VULKAN=1 npm rebuild tweetsmith'), none.vulkan);
  // the result was cached
  const cache = JSON.parse(readFileSync(join(app, 'cache', 'tweetsmith', 'native-probe.json'), 'utf8')) as { entries: Record<string, { ok: boolean }> };
  t.is(Object.keys(cache.entries).length, 1);
});

withBuild('a GPU package that does not load is passed over, and the note says why', async (t) => {
  const { app } = makeProject('app-broken-gpu');
  fakeGpuPackage(app, 'vulkan', Buffer.from('not a shared library'));
  fakeGpuPackage(app, 'cuda', Buffer.from('not a shared library either'));
  const r = await load(app);
  t.is(r.origin?.kind, 'prebuild', JSON.stringify(r));
  for (const kind of ['cuda', 'vulkan']) {
    const note = r.origin!.notes.find((n) => n.startsWith(`@tweetsmith/${TUPLE}-${kind}: `));
    t.truthy(note, r.origin!.notes.join('\n'));
    t.regex(note!, /does not load/);
  }
  // TWEETSMITH_GPU=off does not look at them
  const off = await load(app, { TWEETSMITH_GPU: 'off' });
  t.is(off.origin?.kind, 'prebuild');
  t.deepEqual(off.origin!.notes, []);
});

withBuild('a cached probe result is used instead of a new probe', async (t) => {
  const { app } = makeProject('app-cache');
  fakeGpuPackage(app, 'vulkan', CPU_BUILD);
  const first = await load(app);
  t.is(first.origin?.kind, 'prebuild');
  // Rewrite the cached answer as a pass: the next process believes it without probing.
  const file = join(app, 'cache', 'tweetsmith', 'native-probe.json');
  const cache = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, { ok: boolean; device?: string; why?: string }> };
  for (const entry of Object.values(cache.entries)) Object.assign(entry, { ok: true, device: 'Vulkan0 (a cached GPU)', why: undefined });
  writeFileSync(file, JSON.stringify(cache));
  const second = await load(app);
  t.is(second.origin?.kind, 'gpu-package', JSON.stringify(second));
  t.is(second.origin?.gpu, 'vulkan');
  t.is(second.origin?.probedDevice, 'Vulkan0 (a cached GPU)');
  // A changed device visibility is another key: probed again, and passed over again.
  const other = await load(app, { GGML_VK_VISIBLE_DEVICES: '1' });
  t.is(other.origin?.kind, 'prebuild');
  // An unwritable cache is no cache, not an error.
  writeFileSync(join(app, 'not-a-dir'), '');
  const unwritable = await load(app, { XDG_CACHE_HOME: join(app, 'not-a-dir') });
  t.is(unwritable.origin?.kind, 'prebuild');
});

withBuild('TWEETSMITH_GPU=vulkan takes the Vulkan package without the probe', async (t) => {
  const { app } = makeProject('app-forced');
  const binary = fakeGpuPackage(app, 'vulkan', CPU_BUILD);
  const r = await load(app, { TWEETSMITH_GPU: 'vulkan' });
  t.is(r.origin?.kind, 'gpu-package', JSON.stringify(r));
  t.is(r.origin?.path, binary);
  t.false(existsSync(join(app, 'cache', 'tweetsmith', 'native-probe.json')), 'a probe ran');
});

withBuild('local builds: a GPU build the probe passes over gives way to the local CPU build', async (t) => {
  const { app, pkg } = makeProject('app-local');
  place(CPU_BUILD, join(pkg, 'build', 'vulkan', 'Release', 'tweetsmith.node'));
  fakeGpuPackage(app, 'vulkan', CPU_BUILD);
  // no local CPU build yet: the GPU package is probed (and passed over), then the prebuild
  const before = await load(app);
  t.is(before.origin?.kind, 'prebuild', JSON.stringify(before));
  t.true(before.origin!.notes.some((n) => n.startsWith('build/vulkan/Release/tweetsmith.node: ')), before.origin!.notes.join('\n'));
  t.true(before.origin!.notes.some((n) => n.startsWith(`${VULKAN_PACKAGE}: `)), before.origin!.notes.join('\n'));
  // with a local CPU build, packages are not considered
  place(CPU_BUILD, join(pkg, 'build', 'Release', 'tweetsmith.node'));
  const after = await load(app);
  t.is(after.origin?.kind, 'local-build');
  t.true(after.origin!.path.endsWith(join('build', 'Release', 'tweetsmith.node')));
  t.false(after.origin!.notes.some((n) => n.startsWith(`${VULKAN_PACKAGE}: `)), after.origin!.notes.join('\n'));
  // a GPU build alone still serves, for its CPU backend, when nothing else loads
  rmSync(join(pkg, 'build', 'Release'), { recursive: true });
  rmSync(join(pkg, 'prebuilds'), { recursive: true });
  rmSync(join(app, 'node_modules', '@tweetsmith'), { recursive: true });
  const alone = await load(app);
  t.is(alone.origin?.kind, 'local-build', JSON.stringify(alone));
  t.true(alone.origin!.path.endsWith(join('build', 'vulkan', 'Release', 'tweetsmith.node')));
  t.true(alone.origin!.notes.some((n) => n.includes('used for its CPU backend')), alone.origin!.notes.join('\n'));
});

withBuild('TWEETSMITH_ADDON wins over every other candidate, and says so when it does not load', async (t) => {
  const { app, pkg } = makeProject('app-explicit');
  place(CPU_BUILD, join(pkg, 'build', 'Release', 'tweetsmith.node'));
  fakeGpuPackage(app, 'vulkan', CPU_BUILD);
  const mine = join(app, 'mine.node');
  copyFileSync(CPU_BUILD, mine);
  const r = await load(app, { TWEETSMITH_ADDON: mine, TWEETSMITH_GPU: 'vulkan' });
  t.is(r.origin?.kind, 'explicit', JSON.stringify(r));
  t.is(r.origin?.path, mine);
  t.regex(r.vulkan!, new RegExp(`this tweetsmith engine \\(TWEETSMITH_ADDON=${mine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  const missing = await load(app, { TWEETSMITH_ADDON: join(app, 'missing.node') });
  t.regex(missing.error ?? '', /TWEETSMITH_ADDON=.*missing\.node: the addon does not load/);
});

// With the real Vulkan build on a machine whose only Vulkan device is Mesa's
// lavapipe, the probe must see a software device and pass the build over.
const vulkanBuild = haveCpuBuild && existsSync(VULKAN_BUILD) ? test : test.skip;
vulkanBuild('the Vulkan build is passed over when its only device is a software one (lavapipe)', async (t) => {
  const { app, pkg } = makeProject('app-lavapipe');
  place(VULKAN_BUILD, join(pkg, 'build', 'vulkan', 'Release', 'tweetsmith.node'));
  const r = await load(app, { GGML_VK_VISIBLE_DEVICES: '0' });
  t.is(r.origin?.kind, 'prebuild', JSON.stringify(r));
  const note = r.origin!.notes.find((n) => n.startsWith('build/vulkan/Release/tweetsmith.node: '));
  t.truthy(note, r.origin!.notes.join('\n'));
  t.log(note);
  if (/predates the GPU backends/.test(note!)) return t.pass('this build has no devices() yet');
  t.regex(note!, /only a software Vulkan device \(.*\) was found|no GPU device was found/);
  t.regex(r.vulkan!, /TWEETSMITH_GPU=vulkan loads it anyway|no GPU device/);
  t.log(r.vulkan);
});

// The probe's whole path on a real Vulkan device: lavapipe, accepted for the
// test. The build is chosen, with the device the probe computed on.
vulkanBuild('with a software device allowed, the probe computes on it and the Vulkan build is chosen', async (t) => {
  const { app, pkg } = makeProject('app-lavapipe-allowed');
  place(VULKAN_BUILD, join(pkg, 'build', 'vulkan', 'Release', 'tweetsmith.node'));
  // lavapipe compiles ggml's pipelines on the CPU: a minute or more on a busy machine
  t.timeout(12 * 60_000);
  const r = await load(app, { GGML_VK_VISIBLE_DEVICES: '0', TWEETSMITH_PROBE_SOFTWARE: '1', TWEETSMITH_PROBE_TIMEOUT: '600' });
  t.is(r.origin?.kind, 'local-build', JSON.stringify(r));
  if (r.origin?.gpu === undefined && r.origin!.notes.some((n) => /predates the GPU backends/.test(n))) return t.pass('this build has no devices() yet');
  t.is(r.origin?.gpu, 'vulkan', JSON.stringify(r));
  t.true(r.origin!.path.endsWith(join('build', 'vulkan', 'Release', 'tweetsmith.node')));
  t.regex(r.origin?.probedDevice ?? '', /^Vulkan0 \(/);
  t.log(`probed on ${r.origin?.probedDevice} (${r.seconds.toFixed(1)} s with the probe)`);
  const cached = await load(app, { GGML_VK_VISIBLE_DEVICES: '0', TWEETSMITH_PROBE_SOFTWARE: '1', TWEETSMITH_PROBE_TIMEOUT: '600' });
  t.is(cached.origin?.probedDevice, r.origin?.probedDevice);
  t.log(`${cached.seconds.toFixed(1)} s with the cached answer`);
});
