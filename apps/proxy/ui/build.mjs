// Bundles the status page (apps/proxy/ui) into one HTML document with its script and styles inline, which the proxy
// serves at GET /ui: no request for assets, nothing from elsewhere. Usage: node apps/proxy/ui/build.mjs [out-file]
// (default dist/apps/proxy/ui/index.html, beside the proxy's bundle).
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const out = path.resolve(root, process.argv[2] ?? 'dist/apps/proxy/ui/index.html');
const require = createRequire(import.meta.url);

const bundle = await build({
  entryPoints: [path.join(here, 'src/main.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  platform: 'browser',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const script = bundle.outputFiles[0].text;
const styles = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') + readFileSync(path.join(here, 'styles.css'), 'utf8');
// Inline text must not close its element early.
const inline = (text, tag) => text.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
const page = readFileSync(path.join(here, 'page.html'), 'utf8')
  .replace('/*STYLES*/', () => inline(styles, 'style'))
  .replace('/*SCRIPT*/', () => inline(script, 'script'));
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, page);
console.log(`status page: ${path.relative(root, out)} (${Math.round(page.length / 1024)} KiB)`);
