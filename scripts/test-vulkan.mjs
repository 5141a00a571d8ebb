#!/usr/bin/env node
// npm run test:vulkan, and the last step of npm test: the engine tests
// (test/engine-*.test.ts) once more, on the Vulkan build
// (build/vulkan/Release/tweetsmith.node, npm run build:vulkan), with models on
// its first Vulkan device (TWEETSMITH_DEVICE=vulkan, TWEETSMITH_TEST_DEVICES=vulkan). Without a GPU that is Mesa's software driver
// (lavapipe), which ggml lists only when asked: GGML_VK_VISIBLE_DEVICES=0, and
// fp16 and cooperative matrices off, as llama.cpp's own lavapipe CI job runs.
// Set any of these variables to override it (e.g. GGML_VK_VISIBLE_DEVICES=1
// for a machine's second Vulkan device). Extra arguments go to ava.
//
// Without the Vulkan build the tests are skipped with a visible reason, and
// exit 0, except in CI (CI=true), where a skip is a failure.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'vulkan', 'Release', 'tweetsmith.node');
const ci = process.env.CI === 'true' || process.env.CI === '1';

if (!existsSync(addon)) {
  const bar = '='.repeat(78);
  process.stderr.write(
    `\n${bar}\n` +
      `SKIPPED: the engine tests on Vulkan: ${relative(root, addon)} is not built.\n` +
      '  Build it with: npm run build:vulkan\n' +
      '  It needs glslc, the Vulkan headers and SPIRV-Headers, and a Vulkan driver to run on\n' +
      '  (Debian/Ubuntu: apt-get install glslc libvulkan-dev spirv-headers mesa-vulkan-drivers).\n' +
      (ci ? '  CI=true: the Vulkan tests must run in CI, so this is a failure.\n' : '') +
      `${bar}\n\n`,
  );
  process.exit(ci ? 1 : 0);
}

const files = readdirSync(join(root, 'test'))
  .filter((f) => /^engine-.*\.test\.ts$/.test(f))
  .sort()
  .map((f) => `test/${f}`);
const env = {
  ...process.env,
  TWEETSMITH_ADDON: addon,
  TWEETSMITH_TEST_DEVICES: 'vulkan',
  // the device models use when a test names none (lib/engine/device.ts)
  TWEETSMITH_DEVICE: process.env.TWEETSMITH_DEVICE ?? 'vulkan',
  GGML_VK_VISIBLE_DEVICES: process.env.GGML_VK_VISIBLE_DEVICES ?? '0',
  GGML_VK_DISABLE_F16: process.env.GGML_VK_DISABLE_F16 ?? '1',
  GGML_VK_DISABLE_COOPMAT: process.env.GGML_VK_DISABLE_COOPMAT ?? '1',
};
process.stderr.write(
  `tweetsmith: the engine tests on Vulkan (${relative(root, addon)}, GGML_VK_VISIBLE_DEVICES=${env.GGML_VK_VISIBLE_DEVICES}): ${files.join(' ')}\n`,
);
const ava = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const started = Date.now();
const child = spawn(process.execPath, [ava, ...files, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
child.on('close', (code, signal) => {
  process.stderr.write(`tweetsmith: the engine tests on Vulkan ${code === 0 ? 'passed' : 'failed'} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
