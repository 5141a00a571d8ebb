#!/usr/bin/env node
// Puts ggml's source into native/ggml/ (git-ignored; never committed).
//
// The pinned source is the llama.cpp release bundled inside the npm package
// node-llama-cpp@3.22.1 (llama/gitRelease.bundle: llama.cpp at commit
// de3ff815ea7d559ee917f063901b8986f038abc6, whose ggml/ is ggml 0.25.1). It is
// fetched with `npm pack` so the user's registry and proxy settings apply, its
// sha256 is checked, ggml/ is taken out of the bundle with git, and the
// project's own patches in native/patches/*.patch are applied in name order.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'node-llama-cpp@3.22.1';
const TARBALL_SHA256 = 'a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f';
const COMMIT = 'de3ff815ea7d559ee917f063901b8986f038abc6';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'native', 'ggml');
const stamp = join(target, '.tweetsmith-source');
const patchDir = join(root, 'native', 'patches');

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }).toString();
}

function patches() {
  if (!existsSync(patchDir)) return [];
  return readdirSync(patchDir).filter((f) => f.endsWith('.patch')).sort();
}

// The stamp records what native/ggml was made from, so a changed patch set refetches.
function wantedStamp() {
  const h = createHash('sha256');
  h.update(COMMIT);
  for (const p of patches()) h.update(p).update(readFileSync(join(patchDir, p)));
  return h.digest('hex');
}

export function fetchGgml({ force = false, log = (m) => process.stderr.write(`tweetsmith: ${m}\n`) } = {}) {
  const want = wantedStamp();
  if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return target;

  const work = mkdtempSync(join(tmpdir(), 'tweetsmith-ggml-'));
  try {
    log(`fetching ggml from the npm registry (${PACKAGE}, about 36 MB)`);
    let file;
    try {
      const out = run('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], { cwd: work, shell: process.platform === 'win32' });
      file = join(work, out.trim().split('\n').pop().trim());
    } catch (e) {
      throw new Error(`could not download ${PACKAGE} with npm pack: ${e.stderr?.toString() || e.message}\n` +
        'tweetsmith needs the npm registry once to fetch ggml\'s source. Check your network or npm proxy settings.');
    }
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (sha !== TARBALL_SHA256) {
      throw new Error(`${file}: sha256 ${sha} does not match the pinned ${TARBALL_SHA256}; refusing to build from it.`);
    }
    run('tar', ['-xzf', file, '-C', work, 'package/llama/gitRelease.bundle']);
    const repo = join(work, 'repo');
    mkdirSync(repo);
    run('git', ['init', '-q'], { cwd: repo });
    run('git', ['fetch', '-q', join(work, 'package', 'llama', 'gitRelease.bundle'), COMMIT], { cwd: repo });
    const staged = join(work, 'ggml-tree');
    mkdirSync(staged);
    const tar = execFileSync('git', ['archive', COMMIT, 'ggml'], { cwd: repo, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', staged], { input: tar });
    const ggml = join(staged, 'ggml');
    for (const p of patches()) {
      log(`applying native/patches/${p}`);
      run('git', ['apply', '--directory=ggml', '--unsafe-paths', '-p1', join(patchDir, p)], { cwd: staged });
    }
    writeFileSync(join(ggml, '.tweetsmith-source'), want + '\n');
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    renameSync(ggml, target);
    log(`ggml 0.25.1 (llama.cpp ${COMMIT.slice(0, 10)}) is in native/ggml`);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// binding.gyp's build cannot run CMake's configure_file, so ggml's version
// header is written here, in a folder of its own that the CMake build never
// includes. Rewritten only when it changes, so make does not rebuild ggml.c.
export function writeGypVersionHeader() {
  const cmake = readFileSync(join(target, 'CMakeLists.txt'), 'utf8');
  const part = (name) => {
    const m = cmake.match(new RegExp(`set\\(GGML_VERSION_${name}\\s+(\\d+)\\)`));
    if (!m) throw new Error(`native/ggml/CMakeLists.txt has no GGML_VERSION_${name}`);
    return m[1];
  };
  const text = '#pragma once\n\n' +
    `#define GGML_VERSION "${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}"\n` +
    `#define GGML_COMMIT  "${COMMIT.slice(0, 7)}"\n`;
  const dir = join(target, 'tweetsmith-gyp');
  const file = join(dir, 'ggml-version.h');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    if (process.argv.includes('--for-gyp')) {
      // Called by binding.gyp: stdout is read as the header's folder, relative to the package.
      fetchGgml();
      process.stdout.write(relative(root, writeGypVersionHeader()).split(sep).join('/'));
      process.exit(0);
    }
    fetchGgml({ force: process.argv.includes('--force') });
  } catch (e) {
    process.stderr.write(`tweetsmith: ${e.message}\n`);
    process.exit(1);
  }
}
