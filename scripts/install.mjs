#!/usr/bin/env node
// npm's install step, and the source build behind npm run build:native,
// build:vulkan, build:cuda and build:gyp (docs/PACKAGING.md).
//
// A git checkout always builds from source (incrementally, so changed C++ is
// never stale). An installed package keeps the addon it ships (a prebuild)
// when that loads and computes on this machine, and builds from source only
// when it does not. The check runs in a child process: a binary this CPU
// cannot execute, or one that needs a newer C library, fails the check
// instead of crashing the install.
//
//   --force, TWEETSMITH_BUILD_FROM_SOURCE=1  build from source even when a prebuild works
//   --vulkan, TWEETSMITH_VULKAN=1             build the Vulkan variant (Vulkan + CPU backends) into
//                                             build/vulkan/Release, beside the CPU build
//   --cuda, TWEETSMITH_CUDA=1                 build the CUDA variant (CUDA + CPU) into build/cuda/Release
//   TWEETSMITH_CUDA_ARCHS="86;89"             the GPU architectures (default: CMakeLists.txt's list)
//   --gyp, TWEETSMITH_BUILDER=gyp             build with node-gyp (binding.gyp, CPU only); also
//                                             the fallback when cmake is not installed
//   TWEETSMITH_PARALLEL=N                     compile jobs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchGgml } from './fetch-ggml.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const log = (m) => process.stderr.write(`tweetsmith: ${m}\n`);
const truthy = (v) => v === '1' || v === 'true';

// ---------------------------------------------------------------------------
// Does an addon work here?

// Loads the addon at `file` and runs a one-layer model's forward pass: the SIMD
// code runs, so a CPU without the prebuild's instruction set fails here.
const SMOKE = `
Promise.resolve()
  .then(() => {
    const addon = require(process.argv[1]);
    const model = new addon.Model({ nLayer: 1, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 16, layerNormEpsilon: 1e-5 }, 1);
    return model.initRandom(1).then(() => model.logits(Int32Array.of(1, 2, 3))).then((logits) => ({ addon, model, logits }));
  })
  .then(({ addon, model, logits }) => {
    model.dispose();
    if (logits.length !== 48 || !logits.every(Number.isFinite)) throw new Error('the test forward pass gave wrong logits');
    process.stdout.write(JSON.stringify(addon.buildInfo()));
  })
  .catch((e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); });
`;

/** @returns {{ ok: true, info: object } | { ok: false, why: string }} */
export function smokeCheck(file) {
  const r = spawnSync(process.execPath, ['-e', SMOKE, resolve(file)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return { ok: true, info: JSON.parse(r.stdout) };
  const why = r.signal ? `killed by ${r.signal}${r.signal === 'SIGILL' ? ' (an instruction this CPU lacks)' : ''}` : (r.stderr || r.error?.message || `exit ${r.status}`);
  return { ok: false, why: why.trim().split('\n')[0] };
}

/** The addon node-gyp-build would load from this package, or undefined. */
export function findAddon(dir = root) {
  try {
    return require('node-gyp-build').resolve(dir);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Building

function hasCmake() {
  return spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Builds the addon with cmake-js into outDir; returns the .node file. `defines` become -D options. */
export function cmakeJsBuild({ outDir = join(root, 'build'), defines = {} } = {}) {
  fetchGgml({ log });
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const common = ['--directory', root, '--out', outDir];
  for (const [k, v] of Object.entries(defines)) if (v !== undefined && v !== '') common.push(`--CD${k}=${v}`);
  const run = (args) => execFileSync(process.execPath, [cmakeJs, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  // configure, then build; not `cmake-js compile`, which configures only a
  // fresh folder (so a changed option such as TWEETSMITH_CUDA would be
  // ignored) and answers a failed build by deleting the folder and starting
  // over (so a CUDA build that cannot work would take the CPU build with it).
  run(['configure', ...common]);
  run(['build', ...common, ...(process.env.TWEETSMITH_PARALLEL ? ['--parallel', process.env.TWEETSMITH_PARALLEL] : [])]);
  return join(outDir, 'Release', 'tweetsmith.node');
}

// npm hands its scripts the node-gyp it bundles (npm_config_node_gyp); run
// directly, this script looks for that copy beside npm.
function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally; npm's copy will do
  }
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('node-gyp was not found (it comes with npm); install it with: npm install -g node-gyp');
  return found;
}

/** Builds the addon with node-gyp from binding.gyp into build/ (CPU only); returns the .node file. */
export function gypBuild() {
  fetchGgml({ log });
  const args = [nodeGypScript(), 'rebuild', '--jobs', process.env.TWEETSMITH_PARALLEL || 'max'];
  // Node's headers: node-gyp downloads them unless told where they are. Most
  // Node installs carry them in <prefix>/include/node, which also works offline.
  const prefix = join(dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return join(root, 'build', 'Release', 'tweetsmith.node');
}

// Always passed, so an earlier build's list does not linger in CMake's cache
// ("default": CMakeLists.txt's list; cmake-js drops empty values).
export function cudaArchs() {
  return process.env.TWEETSMITH_CUDA_ARCHS || 'default';
}

/** Where each variant's cmake-js build lives: the CPU one in build/, a GPU one in build/<gpu>/. */
export function variantDir(gpu) {
  return gpu ? join(root, 'build', gpu) : join(root, 'build');
}

/** The GPU variant asked for on the command line or in the environment: 'cuda', 'vulkan' or undefined. */
export function wantedGpu(argv = process.argv.slice(2)) {
  const cuda = argv.includes('--cuda') || truthy(process.env.TWEETSMITH_CUDA);
  const vulkan = argv.includes('--vulkan') || truthy(process.env.TWEETSMITH_VULKAN);
  if (cuda && vulkan) throw new Error('build one GPU variant at a time: TWEETSMITH_CUDA=1 (npm run build:cuda) or TWEETSMITH_VULKAN=1 (npm run build:vulkan)');
  return cuda ? 'cuda' : vulkan ? 'vulkan' : undefined;
}

function gpuBuild(gpu) {
  if (!hasCmake()) throw new Error(`the ${gpu === 'cuda' ? 'CUDA' : 'Vulkan'} build needs cmake >= 3.18, which was not found on PATH`);
  log(`building the native addon with ${gpu === 'cuda' ? 'CUDA' : 'Vulkan'} and CPU backends into ${relative(root, variantDir(gpu))}/ with cmake-js; this takes a few minutes`);
  return cmakeJsBuild({
    outDir: variantDir(gpu),
    defines: { TWEETSMITH_CUDA: gpu === 'cuda' ? 'ON' : 'OFF', TWEETSMITH_VULKAN: gpu === 'vulkan' ? 'ON' : 'OFF', TWEETSMITH_CUDA_ARCHS: cudaArchs() },
  });
}

function buildFromSource({ gyp }) {
  if (gyp) {
    log('building the native addon with node-gyp (binding.gyp, CPU only); this takes a minute or two');
    return gypBuild();
  }
  if (!hasCmake()) {
    log('cmake was not found; building with node-gyp (binding.gyp, CPU only) instead');
    return gypBuild();
  }
  log('building the native addon with cmake-js; this takes a minute or two');
  return cmakeJsBuild({
    defines: { TWEETSMITH_CUDA: 'OFF', TWEETSMITH_VULKAN: 'OFF', TWEETSMITH_CUDA_ARCHS: cudaArchs() },
  });
}

// A GPU variant is checked as the CPU one is (its CPU backend runs the check);
// whether it finds a GPU is the loader's question, asked at run time.
function buildAndCheck(build) {
  const built = build();
  const check = smokeCheck(built);
  if (!check.ok) throw new Error(`the addon was built but does not work: ${check.why}`);
  log(`built ${relative(root, built)}`);
}

// ---------------------------------------------------------------------------
// The install step

// The CPU addon (a working prebuild, or build/Release) is always there after
// the install step; a GPU variant asked for is built beside it. With --force
// (npm run build:native, build:vulkan, build:cuda) only the variant asked for
// is built.
function main() {
  const argv = process.argv.slice(2);
  const force = argv.includes('--force') || truthy(process.env.TWEETSMITH_BUILD_FROM_SOURCE);
  const gpu = wantedGpu(argv);
  const gyp = argv.includes('--gyp') || process.env.TWEETSMITH_BUILDER === 'gyp';
  const sourceCheckout = existsSync(join(root, '.git'));
  if (gpu && gyp) throw new Error(`the node-gyp build is CPU only; the ${gpu === 'cuda' ? 'CUDA' : 'Vulkan'} build needs the cmake-js build (and cmake)`);

  if (force && gpu) return buildAndCheck(() => gpuBuild(gpu));

  let cpuReady = false;
  if (!force && !gyp && !sourceCheckout) {
    const found = findAddon();
    if (found) {
      const check = smokeCheck(found);
      if (check.ok) {
        log(`using the prebuilt native addon ${relative(root, found)}`);
        cpuReady = true;
      } else {
        log(`the prebuilt addon ${relative(root, found)} does not work here: ${check.why}; building from source`);
      }
    } else {
      log(`no prebuilt native addon for ${process.platform}-${process.arch}; building from source`);
    }
  }
  if (!cpuReady) buildAndCheck(() => buildFromSource({ gyp }));
  if (gpu) buildAndCheck(() => gpuBuild(gpu));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (e) {
    log(`could not build the native addon: ${e.message.split('\n')[0]}`);
    let gpu;
    try {
      gpu = wantedGpu();
    } catch {
      gpu = undefined;
    }
    if (gpu === 'cuda') {
      log('the CUDA build needs cmake >= 3.18 and the full CUDA toolkit (nvcc, cuBLAS); CMake says what is missing above.');
      log('an earlier build in build/cuda/ is left as it was. See docs/PACKAGING.md.');
    } else if (gpu === 'vulkan') {
      log('the Vulkan build needs cmake >= 3.18, glslc, the Vulkan headers and SPIRV-Headers');
      log('(Debian/Ubuntu: apt-get install glslc libvulkan-dev spirv-headers); CMake says what is missing above.');
      log('an earlier build in build/vulkan/ is left as it was. See docs/PACKAGING.md.');
    } else {
      log('a source build needs cmake >= 3.18, a C++17 compiler and git (Debian/Ubuntu: apt-get install cmake g++ git);');
      log('without cmake it uses node-gyp, which needs python3, make and a C++17 compiler. See docs/PACKAGING.md.');
    }
    process.exit(1);
  }
}
