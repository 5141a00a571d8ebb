// The package as users get it: `npm run prebuild` and `npm pack` in a copy of
// this checkout, the tarball installed into an empty project that cannot see
// the checkout, and `tweetsmith init-model` and `generate` run from there. Once
// with the prebuild (no compiler may run), and, in CI or with
// TWEETSMITH_SLOW_TESTS=1, once built from source with cmake-js
// (TWEETSMITH_BUILD_FROM_SOURCE=1) and once with node-gyp (binding.gyp),
// whose build must pass the PyTorch parity tests. See docs/PACKAGING.md.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const SLOW = process.env.CI === 'true' || process.env.TWEETSMITH_SLOW_TESTS === '1';
const TUPLE = `${process.platform}-${process.arch}`;
const LIBC = process.platform === 'linux' ? ((process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ? '.glibc' : '.musl') : '';
const PREBUILD = `prebuilds/${TUPLE}/node.napi${LIBC}.node`;
const MINUTES = 60_000;

const work = mkdtempSync(join(tmpdir(), 'tweetsmith-packaging-'));
const stage = join(work, 'stage');
let tarball: string | undefined;

test.after.always(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------
// helpers

interface Run {
  code: number | null;
  stdout: string;
  /** stdout and stderr together */
  out: string;
  seconds: number;
}

// Asynchronous, so ava's own timers keep running during a build.
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let out = '';
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), (out += d.toString())));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, out, seconds: (Date.now() - started) / 1000 }));
  });
}

// The outer `npm test` exports its own config (npm_config_local_prefix points
// here); a child npm must see none of it, nor this suite's settings.
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'INIT_CWD' || k === 'NODE_OPTIONS' || k.startsWith('TWEETSMITH_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function ok(t: ExecutionContext, r: Run, what: string): void {
  if (r.code !== 0) t.log(r.out.slice(-6000));
  t.is(r.code, 0, `${what} failed`);
}

// The source as git sees it (tracked and new files, nothing ignored), plus
// ggml's fetched source, so the copy builds offline; dependencies by symlink.
function makeStage(): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(stage, f));
  }
  if (existsSync(join(ROOT, 'native', 'ggml'))) cpSync(join(ROOT, 'native', 'ggml'), join(stage, 'native', 'ggml'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
}

/** An empty project with the tarball installed; returns its folder and the install's run. */
async function installInto(name: string, env: NodeJS.ProcessEnv): Promise<{ app: string; install: Run }> {
  const app = join(work, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  const install = await run('npm', ['install', tarball!, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], app, env);
  return { app, install };
}

/** `npx tweetsmith init-model` and `generate` in an installed project; returns the samples. */
async function initAndGenerate(t: ExecutionContext, app: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<string[]> {
  ok(t, await run('npx', ['--no', 'tweetsmith', 'init-model', '--size', 'tiny', '--out', 'm'], app, env), 'tweetsmith init-model');
  const gen = await run('npx', ['--no', 'tweetsmith', 'generate', '--model', 'm', '-n', '2', '--max-length', '12', '--json'], app, env);
  ok(t, gen, 'tweetsmith generate');
  return (JSON.parse(gen.stdout) as { samples: string[] }).samples;
}

/** Where the installed package's loader found its addon (nativeOrigin()). */
async function origin(app: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<{ kind: string; path: string; notes: string[] }> {
  const native = pathToFileURL(join(app, 'node_modules', 'tweetsmith', 'dist', 'engine', 'native.js')).href;
  const code = `const m = await import(${JSON.stringify(native)}); m.loadNative(); console.log(JSON.stringify(m.nativeOrigin()));`;
  const r = await run(process.execPath, ['--input-type=module', '-e', code], app, env);
  if (r.code !== 0) throw new Error(r.out);
  return JSON.parse(r.stdout);
}

// Stand-ins for every compiler and build tool, which log that they ran and fail.
function fakeToolchain(): { path: string; log: string } {
  const bin = join(work, 'fake-toolchain');
  const log = join(work, 'toolchain-calls.log');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'cmake', 'make', 'ninja', 'node-gyp', 'nvcc']) {
    writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${log}"\nexit 1\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return { path: `${bin}:${process.env.PATH}`, log };
}

// ---------------------------------------------------------------------------
// the tests, in order: each later one installs the tarball the first one makes

test.serial('npm run prebuild writes the portable addon, and npm pack ships it with what an install needs', async (t) => {
  t.timeout(10 * MINUTES);
  makeStage();
  const prebuild = await run('npm', ['run', 'prebuild'], stage);
  ok(t, prebuild, 'npm run prebuild');
  t.true(existsSync(join(stage, PREBUILD)), `${PREBUILD} was not written`);
  t.log(prebuild.out.split('\n').filter((l) => l.startsWith('tweetsmith: wrote')).join('\n'), `(${prebuild.seconds.toFixed(0)} s)`);

  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], stage);
  ok(t, pack, 'npm pack');
  // stdout may start with the prepare script's banner; the JSON array follows it
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  tarball = join(work, info.filename);
  const files = new Set(info.files.map((f) => f.path));
  for (const needed of ['package.json', 'bin/tweetsmith.js', 'dist/index.js', 'dist/cli/main.js', 'dist/serve/public/index.html', 'dist/serve/public/app.js', 'CMakeLists.txt', 'binding.gyp',
    'scripts/install.mjs', 'scripts/fetch-ggml.mjs', 'native/engine/gpt2_model.cpp', 'native/addon/addon.cpp', PREBUILD]) {
    t.true(files.has(needed), `the tarball lacks ${needed}`);
  }
  t.true([...files].some((f) => f.startsWith('demo/archive/')), 'the tarball lacks demo/archive/');
  t.false([...files].some((f) => f.startsWith('lib/') || f.startsWith('web/') || f.startsWith('test/') || f.startsWith('native/ggml/')), 'the tarball carries sources it should not');
  t.log(`${info.filename}: ${(info.size / 2 ** 20).toFixed(1)} MiB, ${files.size} files`);
});

test.serial('binding.gyp compiles every ggml source the CMake build compiles', (t) => {
  const db = join(stage, 'build', `prebuild-${TUPLE}`, 'compile_commands.json');
  if (!existsSync(db)) return t.pass('no compile_commands.json from the prebuild (see the first test)');
  const cmake = (JSON.parse(readFileSync(db, 'utf8')) as Array<{ file: string }>)
    .map((c) => c.file.replace(/\\/g, '/'))
    .filter((f) => f.includes('/native/ggml/src/'))
    .map((f) => f.slice(f.indexOf('/native/ggml/src/') + '/native/ggml/src/'.length));
  const gyp = new Set([...readFileSync(join(ROOT, 'binding.gyp'), 'utf8').matchAll(/'<\(ggml\)\/([^']+)'/g)].map((m) => m[1]));
  t.true(cmake.length > 20, `only ${cmake.length} ggml sources in ${db}`);
  t.deepEqual(cmake.filter((f) => !gyp.has(f)), [], 'binding.gyp misses sources that CMake compiles');
});

test.serial('installed from the tarball, the prebuild is used: no compiler runs; init-model and generate work', async (t) => {
  t.timeout(10 * MINUTES);
  if (!tarball) return t.fail('no tarball (see the first test)');
  const toolchain = process.platform === 'win32' ? undefined : fakeToolchain();
  const env = cleanEnv(toolchain ? { PATH: toolchain.path } : {});
  const { app, install } = await installInto('app-prebuild', env);
  ok(t, install, 'npm install of the tarball');
  t.log(`install with the prebuild: ${install.seconds.toFixed(1)} s`);
  t.regex(install.out, /using the prebuilt native addon/);

  const pkg = join(app, 'node_modules', 'tweetsmith');
  t.false(existsSync(join(pkg, 'build')), 'a build/ folder was made: something compiled');
  t.false(existsSync(join(pkg, 'native', 'ggml')), "ggml's source was fetched: a build was started");
  if (toolchain) t.false(existsSync(toolchain.log), `build tools ran: ${toolchain && existsSync(toolchain.log) ? readFileSync(toolchain.log, 'utf8') : ''}`);

  const samples = await initAndGenerate(t, app, env);
  t.is(samples.length, 2);
  t.true(samples.every((s) => typeof s === 'string'));
  const from = await origin(app, env);
  t.is(from.kind, 'prebuild');
  t.true(from.path.endsWith(PREBUILD.split('/').join(process.platform === 'win32' ? '\\' : '/')));
});

test.serial('an installed GPU package is chosen only when its probe finds a GPU (or when asked for), and one that does not load falls back to the prebuild', async (t) => {
  const app = join(work, 'app-prebuild');
  if (!existsSync(join(app, 'node_modules', 'tweetsmith', PREBUILD))) return t.fail('no installed package (see the tests before)');
  // A stand-in for @tweetsmith/<platform>-<arch>-cuda: the same layout, the CPU binary inside.
  const gpu = join(app, 'node_modules', '@tweetsmith', `${TUPLE}-cuda`);
  mkdirSync(join(gpu, dirname(PREBUILD)), { recursive: true });
  writeFileSync(join(gpu, 'package.json'), JSON.stringify({ name: `@tweetsmith/${TUPLE}-cuda`, version: '0.0.0' }));
  copyFileSync(join(app, 'node_modules', 'tweetsmith', PREBUILD), join(gpu, PREBUILD));
  try {
    // the probe (a child process) finds no GPU on the CPU binary: passed over, and the note says why
    const probed = await origin(app, cleanEnv({ XDG_CACHE_HOME: join(work, 'probe-cache') }));
    t.is(probed.kind, 'prebuild');
    t.true(probed.notes.some((n) => n.startsWith(`@tweetsmith/${TUPLE}-cuda: `)), probed.notes.join('\n'));
    t.is((await origin(app, cleanEnv({ TWEETSMITH_GPU: 'cuda' }))).kind, 'gpu-package');
    t.is((await origin(app, cleanEnv({ TWEETSMITH_GPU: 'off' }))).kind, 'prebuild');
    writeFileSync(join(gpu, PREBUILD), 'not a shared library');
    const fallback = await origin(app, cleanEnv({ TWEETSMITH_GPU: 'cuda' }));
    t.is(fallback.kind, 'prebuild');
    t.true(fallback.notes.some((n) => n.includes(`${TUPLE}-cuda`)), fallback.notes.join('\n'));
  } finally {
    rmSync(join(app, 'node_modules', '@tweetsmith'), { recursive: true, force: true });
  }
});

const slow = SLOW ? test.serial : test.serial.skip;

slow('TWEETSMITH_BUILD_FROM_SOURCE=1 builds the addon with cmake-js in the installed package, and it runs', async (t) => {
  t.timeout(15 * MINUTES);
  if (!tarball) return t.fail('no tarball (see the first test)');
  const env = cleanEnv({ TWEETSMITH_BUILD_FROM_SOURCE: '1' });
  const { app, install } = await installInto('app-source', env);
  ok(t, install, 'npm install of the tarball, built from source');
  t.log(`install with a source build: ${install.seconds.toFixed(1)} s`);
  t.regex(install.out, /building the native addon with cmake-js/);
  const pkg = join(app, 'node_modules', 'tweetsmith');
  t.true(existsSync(join(pkg, 'build', 'Release', 'tweetsmith.node')));
  t.is((await origin(app)).kind, 'local-build');
  t.is((await initAndGenerate(t, app)).length, 2);
});

slow('binding.gyp builds the engine with node-gyp, and that build passes the PyTorch parity tests', async (t) => {
  t.timeout(15 * MINUTES);
  if (!existsSync(join(stage, 'package.json'))) return t.fail('no staged copy (see the first test)');
  const build = await run('npm', ['run', 'build:gyp'], stage);
  ok(t, build, 'npm run build:gyp');
  t.log(`node-gyp build: ${build.seconds.toFixed(0)} s`);
  t.true(existsSync(join(stage, 'build', 'tweetsmith.target.mk')) || existsSync(join(stage, 'build', 'tweetsmith.vcxproj')), 'not a node-gyp build');
  // node-gyp-build takes build/Release first, so the parity tests load the gyp-built addon.
  const ava = join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
  const parity = await run(process.execPath, [ava, 'test/engine-parity.test.ts', '--verbose'], stage, cleanEnv({ CI: 'true' }));
  ok(t, parity, 'the parity tests against the node-gyp build');
  t.log(parity.out.split('\n').filter((l) => /✔|ℹ|passed/.test(l)).join('\n'));
});
