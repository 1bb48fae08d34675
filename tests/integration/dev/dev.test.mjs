// `kiln new` + `kiln dev`: one scripted session against ONE running dev
// server that must never restart (its master pid stays the same):
//   new app -> hello answers -> an edit changes the response -> a syntax error
//   answers 500 with diagnostics naming the line -> the fix -> a new route
//   file appears -> a deleted route answers 404 -> a crashing handler answers
//   500 with a backtrace naming the handler's file -> a new migration is
//   applied -> a request sent during a rebuild waits and gets the new code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { KILN, freePort, waitForPort } from '../lib/server.mjs';

const kiln = path.resolve(KILN);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function get(port, p, init) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`, init);
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json, headers: r.headers };
}

// Poll until pred(response) holds (the rebuild is asynchronous to the save).
async function until(port, p, pred, what, timeoutMs = 15000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await get(port, p);
      if (pred(last)) return last;
    } catch (e) { last = { error: String(e) }; }
    await sleep(25);
  }
  assert.fail(`${what}: last answer ${JSON.stringify(last)}`);
}

test('kiln new + kiln dev: edit, break, fix, add, delete, crash, migrate', { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dev-'));
  const app = path.join(dir, 'myapp');
  execFileSync(kiln, ['new', app], { stdio: 'pipe' });
  for (const f of ['pages/api/hello.c', 'lib', 'db/migrations', '.gitignore', 'README.md']) {
    assert.ok(fs.existsSync(path.join(app, f)), `kiln new made ${f}`);
  }
  assert.match(fs.readFileSync(path.join(app, '.gitignore'), 'utf8'), /\.kiln\/[\s\S]*data\//);

  const port = await freePort();
  const child = spawn(kiln, ['dev', '--port', String(port)], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    await waitForPort(port, { timeoutMs: 20000 });
    let r = await get(port, '/api/hello');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { message: 'Hello, World!' });
    assert.match(out, /\/api\/hello/, 'the route table is printed on start');
    const masterPid = () => execFileSync('pgrep', ['-f', `${app}/.kiln/dev/host`]).toString().trim().split('\n')[0];
    const pid0 = masterPid();

    // An edit changes the response.
    const hello = path.join(app, 'pages/api/hello.c');
    fs.writeFileSync(hello, fs.readFileSync(hello, 'utf8').replace('Hello, World!', 'Hello, Kiln!'));
    r = await until(port, '/api/hello', (x) => x.json?.message === 'Hello, Kiln!', 'edited response');

    // A syntax error: every API request answers 500 with diagnostics naming the line.
    fs.writeFileSync(hello, '#include <kiln.h>\n\nvoid handler(kiln_req *req, kiln_res *res)\n{\n    kiln_json(res, 200, "{message: %s}", "x")\n}\n');
    r = await until(port, '/api/hello', (x) => x.status === 500 && x.json?.error === 'Build failed', 'build failed answer');
    const diag = r.json.diagnostics.find((d) => d.file === 'pages/api/hello.c');
    assert.ok(diag, `diagnostics name the file: ${JSON.stringify(r.json)}`);
    assert.ok(diag.line === 5 || diag.line === 6, `diagnostic line ${diag.line}`);
    assert.ok(diag.message.length > 0);
    const other = await get(port, '/api/anything');
    assert.equal(other.status, 500, 'every API request answers 500 while the build is broken');

    // The fix.
    fs.writeFileSync(hello, '#include <kiln.h>\n\nvoid handler(kiln_req *req, kiln_res *res)\n{\n    kiln_json(res, 200, "{message: %s}", "fixed");\n}\n');
    await until(port, '/api/hello', (x) => x.json?.message === 'fixed', 'fixed response');

    // A new route file.
    fs.mkdirSync(path.join(app, 'pages/api/items'), { recursive: true });
    fs.writeFileSync(path.join(app, 'pages/api/items/[id].c'),
      '#include <kiln.h>\n\nvoid GET(kiln_req *req, kiln_res *res)\n{\n    kiln_json(res, 200, "{id: %s}", kiln_query(req, "id"));\n}\n');
    r = await until(port, '/api/items/42', (x) => x.status === 200, 'new route');
    assert.deepEqual(r.json, { id: '42' });

    // A deleted route file: 404.
    fs.unlinkSync(path.join(app, 'pages/api/items/[id].c'));
    r = await until(port, '/api/items/42', (x) => x.status === 404, 'deleted route');
    assert.deepEqual(r.json, { error: 'Not Found' });

    // A crashing handler: 500 with the signal and a backtrace naming the file.
    fs.writeFileSync(path.join(app, 'pages/api/crash.c'),
      '#include <kiln.h>\n#include <stddef.h>\n\nstatic int boom(int *p)\n{\n    return *p;\n}\n\n' +
      'void handler(kiln_req *req, kiln_res *res)\n{\n    int *volatile p = NULL;\n    kiln_json(res, 200, "{v: %d}", boom(p));\n}\n');
    r = await until(port, '/api/crash', (x) => x.status === 500 || x.status === 200, 'crash route built', 15000);
    if (r.status !== 500) r = await get(port, '/api/crash');
    assert.equal(r.status, 500);
    assert.equal(r.json.error, 'Internal Server Error');
    assert.equal(r.json.signal, 'SIGSEGV');
    const frame = r.json.backtrace.find((f) => f.file === 'pages/api/crash.c');
    assert.ok(frame, `backtrace names the handler's file: ${JSON.stringify(r.json.backtrace)}`);
    assert.ok(frame.line === 6 || frame.line === 12, `frame line ${frame.line}`);
    // ... and the dev server keeps serving.
    r = await until(port, '/api/hello', (x) => x.status === 200, 'serving after the crash');
    assert.match(out, /crash/i, 'the crash is reported in the terminal');

    // A lib/ file: a route that uses it follows its edits.
    fs.writeFileSync(path.join(app, 'lib/greet.h'), 'const char *greet(void);\n');
    fs.writeFileSync(path.join(app, 'lib/greet.c'), '#include "greet.h"\nconst char *greet(void) { return "from lib one"; }\n');
    fs.writeFileSync(path.join(app, 'pages/api/greet.c'),
      '#include <kiln.h>\n#include "greet.h"\n\nvoid GET(kiln_req *req, kiln_res *res)\n{\n    kiln_json(res, 200, "{greeting: %s}", greet());\n}\n');
    await until(port, '/api/greet', (x) => x.json?.greeting === 'from lib one', 'route using lib/');
    fs.writeFileSync(path.join(app, 'lib/greet.c'), '#include "greet.h"\nconst char *greet(void) { return "from lib two"; }\n');
    await until(port, '/api/greet', (x) => x.json?.greeting === 'from lib two', 'lib/ edit rebuilt and swapped in');

    // A new migration is applied.
    fs.writeFileSync(path.join(app, 'db/migrations/001_things.sql'), 'CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT);\n');
    fs.writeFileSync(path.join(app, 'pages/api/things.c'),
      '#include <kiln.h>\n\nvoid GET(kiln_req *req, kiln_res *res)\n{\n    kiln_send_rows(res, 200, kiln_db_query(req, "SELECT id, name FROM things"));\n}\n');
    r = await until(port, '/api/things', (x) => x.status === 200, 'migration applied, route answers');
    assert.deepEqual(r.json, []);

    // A request sent right after a save waits for the rebuild and gets the new code.
    for (let i = 0; i < 3; i++) {
      const word = `v${i}`;
      fs.writeFileSync(hello, `#include <kiln.h>\n\nvoid handler(kiln_req *req, kiln_res *res)\n{\n    kiln_json(res, 200, "{message: %s}", "${word}");\n}\n`);
      await sleep(20); // well inside the rebuild (a compile takes tens of ms)
      r = await get(port, '/api/hello');
      assert.equal(r.json?.message, word, 'the request sent during the rebuild got the new code');
    }

    assert.equal(masterPid(), pid0, 'the dev server never restarted');
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => { child.on('exit', res); setTimeout(res, 5000); });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('kiln dev --sanitize: a use-after-free answers 500 with the report and the line', { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-devsan-'));
  const app = path.join(dir, 'app');
  execFileSync(kiln, ['new', app], { stdio: 'pipe' });
  fs.writeFileSync(path.join(app, 'pages/api/uaf.c'),
    '#include <kiln.h>\n#include <stdlib.h>\n#include <string.h>\n\nvoid handler(kiln_req *req, kiln_res *res)\n{\n' +
    '    char *p = malloc(8);\n    strcpy(p, "abc");\n    free(p);\n    kiln_json(res, 200, "{v: %s}", p);\n}\n');
  const port = await freePort();
  const child = spawn(kiln, ['dev', app, '--port', String(port), '--sanitize'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    await waitForPort(port, { timeoutMs: 30000 });
    const r = await get(port, '/api/uaf');
    assert.equal(r.status, 500, out);
    assert.match(r.json.sanitizer, /heap-use-after-free/);
    const frame = r.json.backtrace.find((f) => f.file === 'pages/api/uaf.c');
    assert.ok(frame && frame.line === 10, `backtrace names uaf.c:10: ${JSON.stringify(r.json.backtrace)}`);
    const ok = await until(port, '/api/hello', (x) => x.status === 200, 'still serving after the report');
    assert.deepEqual(ok.json, { message: 'Hello, World!' });
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => { child.on('exit', res); setTimeout(res, 5000); });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
