#!/usr/bin/env node
// npm run prebuild: the native addon for this platform, built to run on any
// machine of it, placed where node-gyp-build looks for a prebuild:
//
//   prebuilds/<platform>-<arch>/node.napi[.glibc|.musl].node
//
// (the name `prebuildify --napi --tag-libc` gives). Built with cmake-js, not
// prebuildify: prebuildify only drives node-gyp, and the cmake-js build is the
// main, tested one (ggml's own build logic, CUDA). See docs/PACKAGING.md.
//
// With --cuda (TWEETSMITH_CUDA=1) or --vulkan (TWEETSMITH_VULKAN=1) it builds
// that GPU variant (the GPU backend and the CPU one) instead and writes it as
// the folder of an npm package, build/gpu-packages/<platform>-<arch>-<gpu>/,
// ready for `npm publish` (the loader takes it when it is installed and a
// child-process probe finds a real GPU on it and computes with it).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmakeJsBuild, cudaArchs, smokeCheck, wantedGpu } from './install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => process.stderr.write(`tweetsmith: ${m}\n`);
const gpu = (() => {
  try {
    return wantedGpu(process.argv.slice(2));
  } catch (e) {
    log(`prebuild failed: ${e.message}`);
    process.exit(1);
  }
})();
const GPU_NAMES = { cuda: 'CUDA', vulkan: 'Vulkan' };
const tuple = `${process.platform}-${process.arch}`;

// node-gyp-build reads a glibc or musl tag and skips a file whose C library is
// not this machine's, so an Alpine user gets a source build instead of a crash.
function libcTag() {
  if (process.platform !== 'linux') return undefined;
  const header = /** @type {{ glibcVersionRuntime?: string }} */ (process.report.getReport().header);
  return header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function fileName() {
  return ['node', 'napi', libcTag(), 'node'].filter(Boolean).join('.');
}

// Debug symbols are most of the file; users never need them.
function strip(file) {
  const args = process.platform === 'linux' ? ['--strip-unneeded', file] : process.platform === 'darwin' ? ['-x', file] : undefined;
  if (!args) return;
  const r = spawnSync('strip', args, { stdio: 'inherit' });
  if (r.status !== 0) log('strip failed or is not installed; the prebuild keeps its symbols');
}

// The newest glibc symbol version the binary needs: the oldest glibc it runs on.
function glibcFloor(file) {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const versions = [...r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const top = versions.at(-1);
  return top && `${top[0]}.${top[1]}`;
}

function gpuPackage(file) {
  const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const name = `@tweetsmith/${tuple}-${gpu}`;
  const dir = join(root, 'build', 'gpu-packages', `${tuple}-${gpu}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'prebuilds', tuple), { recursive: true });
  const dest = join(dir, 'prebuilds', tuple, fileName());
  copyFileSync(file, dest);
  const libc = libcTag();
  const pkg = {
    name,
    version: main.version,
    description: gpu === 'cuda'
      ? `tweetsmith's native engine with CUDA, for ${tuple}; installed beside tweetsmith, which loads it when it finds an NVIDIA GPU (needs the CUDA runtime)`
      : `tweetsmith's native engine with Vulkan, for ${tuple}; installed beside tweetsmith, which loads it when it finds a Vulkan GPU (needs the Vulkan loader, libvulkan1, and a GPU driver)`,
    license: main.license,
    os: [process.platform],
    cpu: [process.arch],
    ...(libc ? { libc: [libc] } : {}),
    files: ['prebuilds/'],
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  return dest;
}

function main() {
  const outDir = join(root, 'build', `prebuild-${tuple}${gpu ? `-${gpu}` : ''}`);
  log(`building the ${gpu ? GPU_NAMES[gpu] : 'CPU'} prebuild for ${tuple} in ${relative(root, outDir)}`);
  const built = cmakeJsBuild({
    outDir,
    defines: {
      TWEETSMITH_PORTABLE: 'ON',
      TWEETSMITH_CUDA: gpu === 'cuda' ? 'ON' : 'OFF',
      TWEETSMITH_VULKAN: gpu === 'vulkan' ? 'ON' : 'OFF',
      TWEETSMITH_CUDA_ARCHS: cudaArchs(),
    },
  });
  strip(built);

  let dest;
  if (gpu) {
    dest = gpuPackage(built);
  } else {
    const dir = join(root, 'prebuilds', tuple);
    mkdirSync(dir, { recursive: true });
    dest = join(dir, fileName());
    copyFileSync(built, dest);
  }

  // A GPU build loads only where its runtime is (CUDA's, or the Vulkan loader);
  // the CPU one must work here.
  const check = smokeCheck(dest);
  if (!check.ok && !gpu) throw new Error(`${dest} does not work on this machine: ${check.why}`);
  if (!check.ok) log(`not checked here (${check.why})`);

  const size = (statSync(dest).size / 2 ** 20).toFixed(1);
  const floor = process.platform === 'linux' ? glibcFloor(dest) : undefined;
  log(`wrote ${relative(root, dest)} (${size} MiB${floor ? `, needs glibc >= ${floor}` : ''})`);
  if (gpu) log(`publish it with: npm publish ${relative(root, dirname(dirname(dirname(dest))))} --access public`);
}

try {
  main();
} catch (e) {
  log(`prebuild failed: ${e.message}`);
  process.exit(1);
}

