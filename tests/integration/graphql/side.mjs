// side.mjs -- what the GraphQL differential tests share: graphql-js
// (installed here from the pinned package.json when missing) and building
// and running a Kiln side (a C file of this folder compiled with the
// graphql, json and core sources, under ASan+UBSan unless KILN_DIFF_SAN=0,
// with $CC or gcc).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

// graphql-js, or a subpath of it ('graphql/execution/values.js').
export function graphql(sub = 'graphql') {
  if (!existsSync(path.join(here, 'node_modules', 'graphql', 'package.json')))
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  return createRequire(path.join(here, 'package.json'))(sub);
}

// Build tests/integration/graphql/<name>.c, write `input` (JSON) to a file,
// run the binary on it and return its output lines.
const built = new Set();              // compiled once per test process

export function runSide(name, input) {
  const out = path.join(repo, 'build', 'graphql_diff');
  mkdirSync(out, { recursive: true });
  const bin = path.join(out, name);
  if (!built.has(name)) build(name, bin);
  built.add(name);
  const file = path.join(out, `${name}.json`);
  writeFileSync(file, JSON.stringify(input));
  const env = { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=1' };
  return execFileSync(bin, [file], { cwd: repo, env, maxBuffer: 256 << 20, encoding: 'utf8' }).trimEnd().split('\n');
}

function build(name, bin) {
  const srcs = (dir) => readdirSync(path.join(repo, dir)).filter((f) => f.endsWith('.c')).sort().map((f) => `${dir}/${f}`);
  const san = process.env.KILN_DIFF_SAN === '0' ? [] : ['-fsanitize=address,undefined', '-fno-omit-frame-pointer'];
  execFileSync(process.env.CC || 'gcc', [
    '-std=c17', '-O1', '-g', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wno-unused-parameter',
    '-D_GNU_SOURCE', '-Iinclude', '-Isrc', ...san,
    `tests/integration/graphql/${name}.c`, ...srcs('src/core'), ...srcs('src/json'), ...srcs('src/graphql'),
    '-o', bin, '-lm', '-lpthread',
  ], { cwd: repo, stdio: 'inherit' });
}
