// Trunk's post-build hook for the visitor widget (Trunk.toml): every visitor's browser
// fetches these files, so release builds ship them minified by terser (tools/):
//  - the wasm-bindgen JS glue, which Trunk leaves as wasm-bindgen writes it (comments,
//    long local names); index.html's integrity hashes are updated to match;
//  - the embed loader (server/assets/widget.js, written to be read), as
//    dist/loader.min.js, which the server serves at /widget.js when it is there.
// Debug builds are left as they are, for reading in the browser's tools (and the loader's
// minified copy is removed, so that the server sends the source as it now is).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { minify } = createRequire(join(root, 'tools', 'package.json'))('terser');
const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('run by Trunk: TRUNK_STAGING_DIR is not set');
const loaderOut = join(root, 'dist', 'loader.min.js');
if (process.env.TRUNK_PROFILE !== 'release') {
  rmSync(loaderOut, { force: true });
  process.exit(0);
}

const sri = (text) => 'sha384-' + createHash('sha384').update(text).digest('base64');
const options = { module: true, ecma: 2020, compress: { passes: 2 }, mangle: true };

const indexPath = join(staging, 'index.html');
let index = readFileSync(indexPath, 'utf8');
for (const name of readdirSync(staging).filter((f) => f.endsWith('.js'))) {
  const path = join(staging, name);
  const source = readFileSync(path, 'utf8');
  const { code } = await minify(source, options);
  writeFileSync(path, code);
  const before = sri(source);
  if (index.includes(before)) index = index.replaceAll(before, sri(code));
}
writeFileSync(indexPath, index);

// The loader is a classic script on customers' pages: not a module, names kept global.
const loader = readFileSync(join(root, 'server', 'assets', 'widget.js'), 'utf8');
const { code } = await minify(loader, {
  ...options,
  module: false,
  toplevel: false,
  format: { comments: false, preamble: '/*! paycard embed loader: server/assets/widget.js */' },
});
writeFileSync(loaderOut, code);
