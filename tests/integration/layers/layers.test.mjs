// The layering rule of CONTRIBUTING.md ("Layers"), held by
// scripts/check-layers.mjs: the engine (src/runtime) includes and calls
// nothing of the framework above it, db and auth reach the engine only
// through runtime/wait.h and runtime/log.h, and no two folders depend on
// each other. Checked on the sources (includes, transitively) and on the
// built objects (the symbols they use); and the checker itself is shown to
// catch a forbidden include, a hand-written extern, a folder without a row
// and a circle in the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const script = path.join(root, 'scripts/check-layers.mjs');
const build = process.env.KILN_BUILD || path.join(root, 'build');

function run(args) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

// A scratch copy of what the checker reads.
function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-layers-'));
  for (const d of ['src', 'include']) fs.cpSync(path.join(root, d), path.join(dir, d), { recursive: true });
  fs.copyFileSync(path.join(root, 'CONTRIBUTING.md'), path.join(dir, 'CONTRIBUTING.md'));
  return dir;
}

test('every #include under src/ follows the Layers table', () => {
  const r = run([]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /follow the Layers table/);
});

test('the built objects use only what the Layers table allows', (t) => {
  const obj = path.join(build, 'obj');
  if (!fs.existsSync(path.join(obj, 'src/runtime'))) {
    t.skip(`no objects in ${obj} (build first)`);
    return;
  }
  const r = run(['--objects', obj]);
  assert.equal(r.code, 0, r.out);
});

test('the engine including the framework is caught, with the file named', () => {
  const dir = scratch();
  try {
    const conn = path.join(dir, 'src/runtime/conn.c');
    fs.writeFileSync(conn, fs.readFileSync(conn, 'utf8').replace('#include "runtime/engine.h"',
      '#include "runtime/engine.h"\n#include "api/api.h"'));
    const r = run(['--root', dir]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /src\/runtime\/conn\.c: may not include api\/api\.h/);
    // ... and reaching kiln.h through a header is caught too.
    assert.match(r.out, /src\/runtime\/conn\.c: may not include kiln\.h .*via api\/api\.h -> kiln\.h/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('db including the engine beyond wait.h and log.h is caught', () => {
  const dir = scratch();
  try {
    const db = path.join(dir, 'src/db/db.c');
    fs.writeFileSync(db, '#include "runtime/engine.h"\n' + fs.readFileSync(db, 'utf8'));
    const r = run(['--root', dir]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /src\/db\/db\.c: may not include runtime\/engine\.h/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a new src/ folder without a row, and a circle in the table, are caught', () => {
  const dir = scratch();
  try {
    fs.mkdirSync(path.join(dir, 'src/newthing'));
    fs.writeFileSync(path.join(dir, 'src/newthing/x.c'), '#include "core/core.h"\n');
    const md = path.join(dir, 'CONTRIBUTING.md');
    fs.writeFileSync(md, fs.readFileSync(md, 'utf8').replace('| `http` | `core` |', '| `http` | `core`, `api` |'));
    const r = run(['--root', dir]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /src\/newthing\/: no row in the Layers table/);
    assert.match(r.out, /the Layers table has a circle: .*http/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a hand-written extern from the engine into the framework is caught in the objects', (t) => {
  const dir = scratch();
  try {
    const cc = process.env.CC || 'cc';
    const obj = path.join(dir, 'obj/src');
    fs.mkdirSync(path.join(obj, 'runtime'), { recursive: true });
    fs.mkdirSync(path.join(obj, 'api'), { recursive: true });
    const engine = path.join(dir, 'e.c'), framework = path.join(dir, 'f.c');
    fs.writeFileSync(engine, 'extern void dispatch_request(void *c);\nvoid conn_x(void *c) { dispatch_request(c); }\n');
    fs.writeFileSync(framework, 'void dispatch_request(void *c) { (void)c; }\n');
    for (const [src, out] of [[engine, 'runtime/conn.o'], [framework, 'api/dispatch.o']]) {
      const r = spawnSync(cc, ['-c', src, '-o', path.join(obj, out)], { encoding: 'utf8' });
      if (r.status !== 0) { t.skip(`no C compiler (${cc}): ${r.stderr}`); return; }
    }
    const r = run(['--root', dir, '--objects', path.join(dir, 'obj')]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /src\/runtime\/conn\.o: uses dispatch_request of src\/api\//);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
