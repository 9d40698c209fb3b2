// Serves the npm packages of clients/node_modules to a page in Chromium as
// native ES modules, without a bundler: an import map sends each bare
// specifier ("@apollo/client/link", "rxjs/internal/Observable") to the
// file that the package's "exports" (or "module"/"main") names for a
// browser, and a Playwright route answers those URLs from node_modules.
// The page sees the libraries' own published files, unchanged.
//
//   const modules = browserModules(origin);   // URLs under <origin>/__modules/
//   await modules.route(context);              // serve them
//   modules.importMap                          // {"imports": {...}} for the page
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_MODULES = join(dirname(fileURLToPath(import.meta.url)), 'node_modules');
const PREFIX = '/__modules/';

// The export conditions a browser bundler would pick, in order of
// preference; "default" always matches.
const CONDITIONS = new Set(['browser', 'module', 'import', 'default']);

// target resolves one value of an "exports" map to a path ("./x.js"), or
// null (excluded, or no matching condition).
function target(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = target(v);
      if (t) return t;
    }
    return null;
  }
  for (const [cond, v] of Object.entries(value)) {
    if (!CONDITIONS.has(cond)) continue;
    const t = target(v);
    if (t) return t;
  }
  return null;
}

function packageDirs() {
  const dirs = [];
  for (const name of readdirSync(NODE_MODULES)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const sub of readdirSync(join(NODE_MODULES, name))) dirs.push(`${name}/${sub}`);
    } else {
      dirs.push(name);
    }
  }
  return dirs.filter((d) => existsSync(join(NODE_MODULES, d, 'package.json')));
}

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

const url = (pkg, path) => PREFIX + pkg + '/' + path.replace(/^\.\//, '');

// importsOf adds the import map entries of one package.
function importsOf(pkg, imports) {
  const dir = join(NODE_MODULES, pkg);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  let exp = meta.exports;
  if (exp === undefined) {
    const main = meta.module || meta.main || 'index.js';
    imports[pkg] = url(pkg, main);
    imports[`${pkg}/`] = url(pkg, '');
    return;
  }
  if (typeof exp === 'string' || Array.isArray(exp) || !Object.keys(exp).some((k) => k.startsWith('.'))) exp = { '.': exp };
  for (const [key, value] of Object.entries(exp)) {
    const to = target(value);
    if (!to) continue;
    const spec = pkg + key.slice(1);
    if (!key.includes('*')) {
      // "./": a folder mapping of old packages.
      imports[spec] = url(pkg, to);
      continue;
    }
    const [keyPre, keySuf] = key.split('*');
    const [toPre, toSuf] = to.split('*');
    if (keySuf === '' && toSuf === '') {
      imports[pkg + keyPre.slice(1)] = url(pkg, toPre);
      continue;
    }
    // A pattern with a suffix ("./internal/*" -> "./dist/esm5/internal/*.js"):
    // an import map cannot add one, so every file it matches gets an entry.
    const base = join(dir, toPre.slice(0, toPre.lastIndexOf('/') + 1));
    if (!existsSync(base) || !statSync(base).isDirectory()) continue;
    for (const file of files(base)) {
      const rel = './' + relative(dir, file).split(sep).join('/');
      if (!rel.startsWith(toPre) || !rel.endsWith(toSuf) || rel.length < toPre.length + toSuf.length) continue;
      const star = rel.slice(toPre.length, rel.length - toSuf.length);
      const s = pkg + keyPre.slice(1) + star + keySuf;
      // An exact key of the map wins over a pattern (exact keys are set
      // unconditionally, before or after).
      if (!(s in imports)) imports[s] = url(pkg, rel);
    }
  }
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.cjs': 'text/javascript', '.json': 'application/json', '.map': 'application/json' };

export function browserModules(origin) {
  const imports = {};
  for (const pkg of packageDirs()) importsOf(pkg, imports);
  for (const k of Object.keys(imports)) if (!imports[k].startsWith('http')) imports[k] = origin + imports[k];
  return {
    importMap: { imports },
    // route answers <origin>/__modules/<package>/<file> from node_modules.
    async route(context) {
      await context.route(`${origin}${PREFIX}**`, (route) => {
        const path = decodeURIComponent(new URL(route.request().url()).pathname.slice(PREFIX.length));
        // Files written for bundlers import one another without the
        // extension ("./Subscriber" in rxjs 7's ESM build): as a bundler
        // does, try the name with .js and .mjs. The module's URL keeps its
        // folder, so its own relative imports still resolve.
        const file = [path, `${path}.js`, `${path}.mjs`].map((p) => join(NODE_MODULES, p)).find((f) => existsSync(f) && statSync(f).isFile());
        if (!file || relative(NODE_MODULES, file).startsWith('..')) {
          return route.fulfill({ status: 404, contentType: 'text/plain', body: `no such module file: ${path}` });
        }
        const ext = file.slice(file.lastIndexOf('.'));
        return route.fulfill({ status: 200, contentType: TYPES[ext] || 'application/octet-stream', body: readFileSync(file) });
      });
    },
  };
}
