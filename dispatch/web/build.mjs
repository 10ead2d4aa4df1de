// Builds the pages: one minified ES bundle (and its CSS) per page, content-hashed names,
// the HTML pages naming them, and manifest.json with each page's bytes (raw and gzipped).
// Usage: node build.mjs [outdir]   (default: dist). Called by `npm run build`.
import * as esbuild from 'esbuild';
import { mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

const out = process.argv[2] || 'dist';
const pages = {
  login: 'src/login.js', board: 'src/board.js', kpi: 'src/kpi.js', worker: 'src/worker.js',
  volunteer: 'src/volunteer.js', people: 'src/people.js', dlq: 'src/dlq.js', inbox: 'src/inbox.js',
  resident: 'src/resident.js',
};

const result = await esbuild.build({
  entryPoints: pages,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome90', 'safari14'],
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  splitting: true,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const manifest = { pages: {} };
const byEntry = {};
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (info.entryPoint) byEntry[info.entryPoint] = { file, info };
}
for (const [name, entry] of Object.entries(pages)) {
  const { file, info } = byEntry[entry];
  const js = path.basename(file);
  const css = info.cssBundle ? path.basename(info.cssBundle) : null;
  const chunks = info.imports.filter((i) => i.kind === 'import-statement').map((i) => path.basename(i.path));
  const files = [js, ...(css ? [css] : []), ...chunks];
  let bytes = 0;
  let gzip = 0;
  for (const f of files) {
    const data = await readFile(path.join(out, 'assets', f));
    bytes += data.length;
    gzip += gzipSync(data, { level: 9 }).length;
  }
  let html = await readFile(path.join('pages', `${name}.html`), 'utf8');
  const head = [
    ...(css ? [`<link rel="stylesheet" href="/static/${css}">`] : []),
    ...chunks.map((c) => `<link rel="modulepreload" href="/static/${c}">`),
    `<script type="module" src="/static/${js}"></script>`,
  ].join('\n  ');
  if (!html.includes('<!--assets-->')) throw new Error(`pages/${name}.html has no <!--assets--> marker`);
  html = html.replace('<!--assets-->', head);
  const htmlBytes = Buffer.byteLength(html);
  await writeFile(path.join(out, `${name}.html`), html);
  manifest.pages[name] = { js, css, chunks, bytes: bytes + htmlBytes, gzip_bytes: gzip + gzipSync(html).length };
}
// the worker page's service worker: precaches the page and exactly the assets it names
{
  const w = manifest.pages.worker;
  const precache = ['/m', ...[w.js, ...(w.css ? [w.css] : []), ...w.chunks].map((f) => `/static/${f}`)];
  const version = createHash('sha256').update(JSON.stringify(precache)).digest('hex').slice(0, 12);
  const sw = (await readFile('src/sw-m.js', 'utf8'))
    .replace('self.__PRECACHE__', JSON.stringify(precache))
    .replace('self.__VERSION__', JSON.stringify(version));
  await writeFile(path.join(out, 'sw-m.js'), sw);
}
manifest.assets = (await readdir(path.join(out, 'assets'))).sort();
await mkdir(out, { recursive: true });
await writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
for (const [name, p] of Object.entries(manifest.pages)) {
  console.log(`${name.padEnd(6)} ${(p.bytes / 1024).toFixed(1).padStart(7)} kB, gzipped ${(p.gzip_bytes / 1024).toFixed(1).padStart(6)} kB`);
}
