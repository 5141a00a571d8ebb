#!/usr/bin/env node
// npm's install step: make sure the native addon is there.
// Order: an addon that already loads (a prebuild, or an earlier build) is kept;
// otherwise ggml's source is fetched and the addon is built with cmake-js.
// `--force` rebuilds from source. TWEETSMITH_CUDA=1 builds with CUDA.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchGgml } from './fetch-ggml.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const force = process.argv.includes('--force') || process.env.TWEETSMITH_BUILD_FROM_SOURCE === '1';
const cuda = process.env.TWEETSMITH_CUDA === '1';
const log = (m) => process.stderr.write(`tweetsmith: ${m}\n`);

function addonLoads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

function build() {
  fetchGgml({ log });
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const args = [cmakeJs, 'compile', '--directory', root, '--out', join(root, 'build')];
  if (cuda) args.push('--CDTWEETSMITH_CUDA=ON');
  if (process.env.TWEETSMITH_PARALLEL) args.push('--parallel', process.env.TWEETSMITH_PARALLEL);
  log(`building the native addon with cmake-js${cuda ? ' (CUDA)' : ''}; this takes a minute or two`);
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

// A source checkout always rebuilds (incrementally), so changed C++ is never stale.
const sourceCheckout = existsSync(join(root, '.git'));

try {
  if (!force && !cuda && !sourceCheckout && addonLoads()) {
    log('native addon found; not rebuilding (npm run build:native to force)');
  } else {
    build();
    if (!addonLoads()) throw new Error('the addon was built but does not load; see the messages above');
  }
} catch (e) {
  log(`could not build the native addon: ${e.message}`);
  log('needs: cmake >= 3.18, a C++17 compiler, and git (to unpack ggml). On Debian/Ubuntu: apt-get install cmake g++ git');
  process.exit(1);
}
