#!/usr/bin/env node
// npm run test:vulkan, and the last step of npm test: the engine tests
// (test/engine-*.test.ts) once more, on the Vulkan build
// (build/vulkan/Release/tweetsmith.node, npm run build:vulkan), with models on
// its first Vulkan device (TWEETSMITH_DEVICE=vulkan). Without a GPU that is Mesa's software driver
// (lavapipe), which ggml lists only when asked: GGML_VK_VISIBLE_DEVICES=0, and
// fp16 and cooperative matrices off, as llama.cpp's own lavapipe CI job runs.
// Set any of these variables to override it (e.g. GGML_VK_VISIBLE_DEVICES=1
// for a machine's second Vulkan device). Extra arguments go to ava.
//
// Without the Vulkan build the tests are skipped with a visible reason, and
// exit 0, except in CI (CI=true), where a skip is a failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'vulkan', 'Release', 'tweetsmith.node');
const ci = process.env.CI === 'true' || process.env.CI === '1';

function skip(reason, fix) {
  const bar = '='.repeat(78);
  process.stderr.write(
    `\n${bar}\n` +
      `SKIPPED: the engine tests on Vulkan: ${reason}\n` +
      fix.map((l) => `  ${l}\n`).join('') +
      (ci ? '  CI=true: the Vulkan tests must run in CI, so this is a failure.\n' : '') +
      `${bar}\n\n`,
  );
  process.exit(ci ? 1 : 0);
}

if (!existsSync(addon)) {
  skip(`${relative(root, addon)} is not built.`, [
    'Build it with: npm run build:vulkan',
    'It needs glslc, the Vulkan headers and SPIRV-Headers, and a Vulkan driver to run on',
    '(Debian/Ubuntu: apt-get install glslc libvulkan-dev spirv-headers mesa-vulkan-drivers).',
  ]);
}

const files = readdirSync(join(root, 'test'))
  .filter((f) => /^engine-.*\.test\.ts$/.test(f))
  .sort()
  .map((f) => `test/${f}`);
const env = {
  ...process.env,
  TWEETSMITH_ADDON: addon,
  // the device models use when a test names none (lib/engine/device.ts)
  TWEETSMITH_DEVICE: process.env.TWEETSMITH_DEVICE ?? 'vulkan',
  GGML_VK_VISIBLE_DEVICES: process.env.GGML_VK_VISIBLE_DEVICES ?? '0',
  GGML_VK_DISABLE_F16: process.env.GGML_VK_DISABLE_F16 ?? '1',
  GGML_VK_DISABLE_COOPMAT: process.env.GGML_VK_DISABLE_COOPMAT ?? '1',
};
// The build is there; is a Vulkan device? (No driver: the tests could only fail.)
const LIST = `const a = require(process.argv[1]);
const d = typeof a.devices === 'function' ? a.devices().filter((x) => x.backend === 'vulkan').map((x) => x.name + ' (' + x.description + ')') : null;
process.stdout.write('\\n' + JSON.stringify(d) + '\\n'); process.exit(0);`;
const listed = spawnSync(process.execPath, ['-e', LIST, addon], { env, encoding: 'utf8', timeout: 120_000 });
let devices;
try {
  devices = JSON.parse((listed.stdout ?? '').trim().split('\n').pop() ?? '');
} catch {
  devices = undefined;
}
if (devices === undefined) {
  process.stderr.write(`tweetsmith: ${relative(root, addon)} does not load or list its devices:\n${listed.stderr ?? ''}\n`);
  process.exit(1);
}
if (Array.isArray(devices) && devices.length === 0) {
  skip(`${relative(root, addon)} finds no Vulkan device (GGML_VK_VISIBLE_DEVICES=${env.GGML_VK_VISIBLE_DEVICES}).`, [
    'Install a Vulkan driver: a GPU vendor\'s, or Mesa\'s software one (Debian/Ubuntu: apt-get install mesa-vulkan-drivers);',
    '`vulkaninfo --summary` (vulkan-tools) lists what the Vulkan loader sees.',
  ]);
}
process.stderr.write(
  `tweetsmith: the engine tests on Vulkan${devices ? ` (${devices[0]})` : ''} (${relative(root, addon)}, GGML_VK_VISIBLE_DEVICES=${env.GGML_VK_VISIBLE_DEVICES}): ${files.join(' ')}\n`,
);
const ava = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const started = Date.now();
// --serial --concurrency=1: one test at a time, one file at a time (lavapipe runs on the
// same two cores as the tests). Models on one GPU take turns, and a call made on
// the JS thread (zeroing gradients, reading weights) waits for another test's
// graph on the slow software device, which would stall the timing-sensitive tests.
const child = spawn(process.execPath, [ava, '--serial', '--concurrency=1', ...files, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
child.on('close', (code, signal) => {
  process.stderr.write(`tweetsmith: the engine tests on Vulkan ${code === 0 ? 'passed' : 'failed'} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
