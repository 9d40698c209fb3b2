// Copies the files of the GraphiQL playground that the server embeds
// (package web, served at /) from node_modules into vendor/, byte for
// byte, with each package's LICENSE, and writes vendor/manifest.json: the
// package versions and lockfile integrities they came from and the SHA-256
// of every copied file (web_test.go checks the embedded files against it).
//
//   npm ci --ignore-scripts && npm run vendor     (from web/playground)
//
// The versions are pinned in package.json and package-lock.json; npm ci
// checks the tarballs against the lockfile's integrity. .ci/run runs both
// commands and fails when vendor/ then differs from what is committed, so
// the embedded files are always the registry's release, unedited.
//
// Only UMD builds are taken: they run from plain <script> tags, without a
// bundler or a build step of ours, so that regenerating them needs nothing
// but npm. GraphiQL 4 is the last release with one (5 is ESM only), and it
// needs React 18's UMD builds (React 19 has none).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, 'node_modules');
const out = join(here, 'vendor');

// What is copied, by package: the path inside the package, and the name
// under vendor/<package>/.
const PACKAGES = {
  graphiql: [
    ['graphiql.min.js', 'graphiql.min.js'],
    ['graphiql.min.css', 'graphiql.min.css'],
    ['LICENSE', 'LICENSE'],
  ],
  react: [
    ['umd/react.production.min.js', 'react.production.min.js'],
    ['LICENSE', 'LICENSE'],
  ],
  'react-dom': [
    ['umd/react-dom.production.min.js', 'react-dom.production.min.js'],
    ['LICENSE', 'LICENSE'],
  ],
};

const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const wanted = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies;

const fail = (message) => {
  process.stderr.write(`vendor.mjs: ${message}\n`);
  process.exit(1);
};

const manifest = { generatedBy: 'web/playground/vendor.mjs', packages: {} };
rmSync(out, { recursive: true, force: true });
for (const [name, files] of Object.entries(PACKAGES)) {
  const locked = lock.packages[`node_modules/${name}`];
  if (!locked) fail(`${name} is not in package-lock.json`);
  if (locked.version !== wanted[name]) fail(`package-lock.json has ${name}@${locked.version}, package.json pins ${wanted[name]}`);
  let installed;
  try {
    installed = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8'));
  } catch {
    fail(`node_modules/${name} is missing: run \`npm ci --ignore-scripts\` in web/playground first`);
  }
  // An `npm install` since the last `npm ci` may have left another
  // version in node_modules than the lockfile pins.
  if (installed.version !== locked.version) fail(`node_modules has ${name}@${installed.version}, the lockfile ${locked.version}: run \`npm ci --ignore-scripts\``);
  const entry = { version: locked.version, integrity: locked.integrity, license: installed.license, files: {} };
  mkdirSync(join(out, name), { recursive: true });
  for (const [from, to] of files) {
    const dest = join(out, name, to);
    copyFileSync(join(modules, name, from), dest);
    entry.files[to] = createHash('sha256').update(readFileSync(dest)).digest('hex');
  }
  manifest.packages[name] = entry;
}
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
process.stdout.write(`vendor.mjs: copied ${Object.keys(PACKAGES).map((n) => `${n}@${manifest.packages[n].version}`).join(', ')} into vendor/\n`);
