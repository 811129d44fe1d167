// Prints, one per line, the node_modules directories (relative to the repository) that the bundle needs at run
// time: the external packages and everything they depend on, optional dependencies included when installed
// (koffi's native build comes as an optional per-platform package).
import { existsSync, readFileSync } from 'node:fs';
import { stdout } from 'node:process';
import { dirname, join, relative } from 'node:path';
import { EXTERNAL_PACKAGES } from '../externals.mjs';

const root = join(import.meta.dirname, '../..');

/** The directory of `name` as Node's node_modules lookup finds it from `fromDir`, or undefined. */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) return undefined;
  }
}

const seen = new Set();
const queue = EXTERNAL_PACKAGES.map((name) => ({ name, from: root, optional: false }));
while (queue.length > 0) {
  const { name, from, optional } = queue.shift();
  const dir = packageDir(name, from);
  if (dir === undefined) {
    if (optional) continue;
    throw new Error(`${name} (needed at run time) is not installed under ${from}: run npm ci`);
  }
  if (seen.has(dir)) continue;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {}))
    queue.push({ name: dep, from: dir, optional: false });
  for (const dep of Object.keys(pkg.optionalDependencies ?? {}))
    queue.push({ name: dep, from: dir, optional: true });
}
stdout.write(
  [...seen]
    .sort()
    .map((dir) => `${relative(root, dir)}\n`)
    .join(''),
);
