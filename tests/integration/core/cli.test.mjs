// cli.test.mjs -- the `kiln` command: routes, build errors (ambiguous tree,
// compile error with file:line), help, unknown commands and options, and
// the server's own options (bad values, a port already in use).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KILN, REPO } from '../lib/server.mjs';
import { FIXTURE, FIXTURE_SRC, buildFixture } from '../lib/extra.mjs';

const run = (args, opts = {}) =>
  spawnSync(KILN, args, { cwd: REPO, encoding: 'utf8', timeout: 120_000, ...opts });

let tmp;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-'));
  await buildFixture();
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// A throwaway app: {relative path: source}.
function app(name, files) {
  const dir = path.join(tmp, name);
  for (const [rel, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), src);
  }
  return dir;
}
const HELLO = '#include <kiln.h>\nvoid handler(kiln_req *req, kiln_res *res) { kiln_json(res, 200, "{ok: true}"); }\n';

test('kiln routes: every route, precedence order, methods, file', () => {
  const r = run(['routes', FIXTURE_SRC]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^Route\s+Methods\s+File$/);
  const rows = lines.slice(1).map((l) => l.trim().split(/\s{2,}/));
  const byRoute = Object.fromEntries(rows.map(([route, methods, file]) => [route, { methods, file }]));
  const files = fs.readdirSync(path.join(FIXTURE_SRC, 'pages/api'), { recursive: true }).filter((f) => f.endsWith('.c'));
  assert.equal(rows.length, files.length, 'one row per route file');
  assert.deepEqual(byRoute['/api/hello'], { methods: 'any (handler)', file: 'pages/api/hello.c' });
  assert.deepEqual(byRoute['/api/posts'], { methods: 'any (handler)', file: 'pages/api/posts/index.c' });
  assert.equal(byRoute['/api/posts/[id]'].file, 'pages/api/posts/[id].c');
  assert.equal(byRoute['/api/users/[id]/posts'].file, 'pages/api/users/[id]/posts.c');
  assert.equal(byRoute['/api/docs/[...slug]'].file, 'pages/api/docs/[...slug].c');
  assert.equal(byRoute['/api/opt/[[...slug]]'].file, 'pages/api/opt/[[...slug]].c');
  const m = byRoute['/api/methods'].methods.split(', ');
  assert.ok(m.includes('GET') && m.includes('POST') && !m.includes('PUT') && !m.includes('DELETE'));
  // Static before dynamic within a folder.
  const order = rows.map(([route]) => route);
  assert.ok(order.indexOf('/api/posts/new') < order.indexOf('/api/posts/[id]'));
  assert.ok(order.indexOf('/api/posts') < order.indexOf('/api/posts/new'));
});

test('kiln build prints the table and what it built', () => {
  const r = run(['build', FIXTURE]);
  assert.equal(r.status, 0, r.stderr);
  const n = fs.readdirSync(path.join(FIXTURE, 'pages/api'), { recursive: true }).filter((f) => f.endsWith('.c')).length;
  assert.match(r.stdout, new RegExp(`built .*\\.kiln/server with ${n} routes`));
  assert.match(r.stdout, /\/api\/docs\/\[\.\.\.slug\]\s+any \(handler\)\s+pages\/api\/docs\/\[\.\.\.slug\]\.c/);
  assert.ok(fs.statSync(path.join(FIXTURE, '.kiln/server')).mode & 0o111);
});

test('kiln build on an ambiguous tree fails, naming both files', () => {
  const dir = app('ambiguous', { 'pages/api/posts.c': HELLO, 'pages/api/posts/index.c': HELLO });
  const r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /pages\/api\/posts\.c/);
  assert.match(r.stderr, /pages\/api\/posts\/index\.c/);
  assert.ok(!fs.existsSync(path.join(dir, '.kiln/server')));
  // kiln routes refuses it the same way.
  const rr = run(['routes', dir]);
  assert.notEqual(rr.status, 0);
  assert.match(rr.stderr, /posts\.c/);
  assert.match(rr.stderr, /posts\/index\.c/);
});

test('kiln build: two dynamic names in one folder fail, naming both', () => {
  const dir = app('slugs', { 'pages/api/p/[id].c': HELLO, 'pages/api/p/[slug].c': HELLO });
  const r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\[id\]\.c/);
  assert.match(r.stderr, /\[slug\]\.c/);
});

test('kiln build: a compile error shows file:line and fails', () => {
  const dir = app('broken', {
    'pages/api/ok.c': HELLO,
    'pages/api/broken.c': '#include <kiln.h>\n\nvoid handler(kiln_req *req, kiln_res *res) {\n    int x = ;\n}\n',
  });
  const r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /pages\/api\/broken\.c:4:\d+: error/);
  assert.match(r.stderr, /build failed/);
  assert.ok(!fs.existsSync(path.join(dir, '.kiln/server')));
  // Fixing it makes the next build pass.
  fs.writeFileSync(path.join(dir, 'pages/api/broken.c'), HELLO);
  const ok = run(['build', dir]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /with 2 routes/);
});

test('kiln build: no pages/api folder is a clear error', () => {
  const dir = app('empty', { 'README.md': 'nothing here\n' });
  const r = run(['build', dir]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /pages\/api/);
});

test('kiln --help, --version, and no arguments', () => {
  let r = run(['--help']);
  assert.equal(r.status, 0);
  for (const cmd of ['build', 'start', 'routes']) assert.match(r.stdout, new RegExp(`^\\s+${cmd} `, 'm'));
  r = run(['build', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /usage: kiln build APP_DIR/);
  r = run(['start', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--port N/);
  r = run(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^kiln \d+\.\d+\.\d+/);
  r = run([]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /usage: kiln COMMAND/);
});

test('unknown commands and options exit non-zero', () => {
  let r = run(['frobnicate']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  r = run(['build']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /missing APP_DIR/);
  r = run(['build', FIXTURE, '--bogus']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--bogus/);
  r = run(['routes', FIXTURE, 'extra']);
  assert.notEqual(r.status, 0);
  r = run(['start', path.join(tmp, 'does-not-exist')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /kiln build/);
});

test('kiln start: bad option values are refused before anything listens', () => {
  for (const args of [['--bogus'], ['--port', 'abc'], ['--port', '70000'], ['--workers', '0'], ['--log-level', 'loud'], ['stray']]) {
    const r = run(['start', FIXTURE, ...args], { timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage|invalid|unexpected|unrecognized/, args.join(' '));
  }
});

test('kiln start on a port already in use: exit 1, says so', async () => {
  const blocker = net.createServer();
  await new Promise((res) => blocker.listen(0, '::', res));
  const { port } = blocker.address();
  try {
    const r = run(['start', FIXTURE, '--port', String(port), '--workers', '1'], { timeout: 15_000 });
    assert.equal(r.status, 1, r.stderr);
    const line = r.stderr
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return null;
        }
      })
      .find((l) => l && l.msg === 'cannot listen');
    assert.ok(line, r.stderr);
    assert.equal(line.port, port);
    assert.match(line.error, /in use/i);
  } finally {
    blocker.close();
  }
});
