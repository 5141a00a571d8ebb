// Builds the page of `tweetsmith serve` into dist/serve/public/ (run by `prepare`
// and `build:ts`, so the published package carries it and nobody builds at
// install). web/ is TypeScript for the browser; esbuild bundles it, with the zip
// reader it imports (@zip.js/zip.js, pinned) and the two small lib/ modules it
// shares with the server (the data table's rows, the Tweet link), into one ES
// module: the page loads one script, with no inline code (its CSP is default-src 'self').
// Types are checked by `tsc -p web/tsconfig.json` (npm run typecheck), not here.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'serve', 'public');
await mkdir(out, { recursive: true });

await build({
  entryPoints: [join(root, 'web', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  banner: { js: '/* tweetsmith serve. Bundles @zip.js/zip.js (BSD-3-Clause): see licenses.txt */' },
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css', 'favicon.svg']) await copyFile(join(root, 'web', file), join(out, file));

// zip.js's licence asks that its notice travel with the code.
const zipLicense = await readFile(join(root, 'node_modules', '@zip.js', 'zip.js', 'LICENSE'), 'utf8');
await writeFile(join(out, 'licenses.txt'), `The page's script (app.js) includes @zip.js/zip.js, under this licence:\n\n${zipLicense}`);
