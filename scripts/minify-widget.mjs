// Trunk's post-build hook for the visitor widget (Trunk.toml): every visitor's browser
// fetches these files, so release builds ship them minified by terser (tools/):
//  - the wasm-bindgen JS glue, which Trunk leaves as wasm-bindgen writes it (comments,
//    long local names). It is renamed by its new content (the server caches the widget's
//    files for good by name) and index.html follows: the import, the preload link and
//    its integrity hash;
//  - the wasm's imports, renamed short in the wasm and the glue alike
//    (scripts/wasm-imports.mjs); the wasm is renamed by its new content too;
//  - the embed loader (server/assets/widget.js, written to be read), as
//    dist/loader.min.js, which the server sends at /widget.js only while its first line
//    names the SHA-256 of the source it came from (so an edited loader is never shadowed
//    by an older build).
// Debug builds are left as they are, for reading in the browser's tools (and the loader's
// minified copy is removed).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, rmSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minifyImports } from './wasm-imports.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('run by Trunk: TRUNK_STAGING_DIR is not set');
const loaderOut = join(root, 'dist', 'loader.min.js');
if (process.env.TRUNK_PROFILE !== 'release') {
  rmSync(loaderOut, { force: true });
  process.exit(0);
}
const { minify } = createRequire(join(root, 'tools', 'package.json'))('terser');

const digest = (algorithm, text, encoding) => createHash(algorithm).update(text).digest(encoding);
const sri = (text) => 'sha384-' + digest('sha384', text, 'base64');
// A fresh options object per call: terser writes into the nested ones it is given.
const options = (module) => ({
  module,
  toplevel: module,
  ecma: 2020,
  compress: { passes: 2 },
  mangle: true,
});

const indexPath = join(staging, 'index.html');
let index = readFileSync(indexPath, 'utf8');
// Writes a staged file's new content under a name with its new hash, and points
// index.html (names and integrity hashes) at it.
const replaceStaged = (name, before, after, pattern) => {
  if (!index.includes(sri(before))) throw new Error(`index.html has no integrity hash for ${name}`);
  if (!index.includes(name)) throw new Error(`index.html does not name ${name}`);
  const renamed = name.replace(pattern, (_, tail) => `-${digest('sha256', after, 'hex').slice(0, 16)}${tail}`);
  writeFileSync(join(staging, name), after);
  renameSync(join(staging, name), join(staging, renamed));
  index = index.replaceAll(sri(before), sri(after)).replaceAll(name, renamed);
};

const [glueName] = readdirSync(staging).filter((f) => f.endsWith('.js'));
const [wasmName] = readdirSync(staging).filter((f) => f.endsWith('_bg.wasm'));
if (!glueName || !wasmName) throw new Error('no JS glue or wasm in the staging directory');
const wasmBefore = readFileSync(join(staging, wasmName));
const { wasm, mapping } = minifyImports(wasmBefore, './paycard-widget_bg.js');
// wasm-bindgen names its import module after the glue: none found means that changed.
if (Object.keys(mapping).length === 0) throw new Error('no import of ./paycard-widget_bg.js to rename');
const importsOf = (bytes) => WebAssembly.Module.imports(new WebAssembly.Module(bytes));
if (importsOf(wasm).length !== importsOf(wasmBefore).length) throw new Error('imports lost in renaming');
const glue = readFileSync(join(staging, glueName), 'utf8');
let { code } = await minify(glue, options(true));
// Each import is one key of the glue's import object: renamed where it stands, once.
for (const [long, short] of Object.entries(mapping)) {
  const keys = code.split(`${long}:`).length - 1;
  const all = code.split(long).length - 1;
  if (keys !== 1 || all !== 1) {
    throw new Error(`the glue names the import ${long} ${all} times, ${keys} of them as a key: one was expected`);
  }
  code = code.replace(`${long}:`, `${short}:`);
}
replaceStaged(wasmName, wasmBefore, Buffer.from(wasm), /-[0-9a-f]+(_bg\.wasm)$/);
replaceStaged(glueName, glue, code, /-[0-9a-f]+(\.js)$/);
writeFileSync(indexPath, index);

// The loader is a classic script on customers' pages: not a module, its names global.
const loader = readFileSync(join(root, 'server', 'assets', 'widget.js'), 'utf8');
const loaderMin = await minify(loader, {
  ...options(false),
  format: {
    comments: false,
    preamble: `/*! paycard embed loader, from server/assets/widget.js sha256:${digest('sha256', loader, 'hex')} */`,
  },
});
writeFileSync(loaderOut, loaderMin.code);
