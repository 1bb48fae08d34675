// `make install PREFIX=...`: the installed kiln works outside the repo (it
// finds kiln.h and libkiln.a relative to itself), and the pkg-config file
// lets a program of one's own link the library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO, KILN_BUILD, startServer } from '../lib/server.mjs';

test('make install, then kiln new/build/start and pkg-config from the prefix', { timeout: 240000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-install-'));
  const prefix = path.join(tmp, 'prefix');
  const build = path.relative(REPO, path.resolve(REPO, KILN_BUILD));
  const vars = [`PREFIX=${prefix}`, `BUILD=${build}`];
  if (/asan/.test(build)) vars.push('CC=clang', 'SAN=1');
  try {
    execFileSync('make', ['-s', 'install', ...vars], { cwd: REPO, stdio: 'pipe' });
    const kiln = path.join(prefix, 'bin/kiln');
    for (const f of ['bin/kiln', 'include/kiln.h', 'lib/kiln/libkiln.a', 'lib/pkgconfig/kiln.pc']) {
      assert.ok(fs.existsSync(path.join(prefix, f)), `installed ${f}`);
    }
    assert.match(execFileSync(kiln, ['--help']).toString(), /kiln build APP_DIR|build APP_DIR/);
    // An app outside the repo, built by the installed kiln.
    const app = path.join(tmp, 'outside');
    execFileSync(kiln, ['new', app], { cwd: tmp, stdio: 'pipe' });
    execFileSync(kiln, ['build', app], { cwd: tmp, stdio: 'pipe' });
    const srv = await startServer(app, { workers: 1 });
    try {
      const r = await fetch(`http://127.0.0.1:${srv.port}/api/hello`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { message: 'Hello, World!' });
    } finally {
      await srv.stop();
    }
    // pkg-config: a hand-written route table linked against the library.
    const env = { ...process.env, PKG_CONFIG_PATH: path.join(prefix, 'lib/pkgconfig') };
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'kiln'], { env }).toString().trim().split(/\s+/);
    assert.ok(flags.includes(`-I${path.join(prefix, 'include')}`), flags.join(' '));
    const src = path.join(tmp, 'own.c');
    fs.writeFileSync(src, '#include <kiln.h>\nstatic void hi(kiln_req *q, kiln_res *r) { (void)q; kiln_json(r, 200, "{own: %b}", 1); }\n' +
      'static const kiln_route_def routes[] = { { "/api/own", "own.c", hi, { 0 }, 0, 0 } };\n' +
      'static const kiln_app_def app = { .routes = routes, .nroutes = 1 };\nint main(int c, char **v) { return kiln_main(c, v, &app); }\n');
    const san = /asan/.test(build) ? ['-fsanitize=address,undefined'] : [];
    execFileSync(/asan/.test(build) ? 'clang' : 'cc', [...san, src, '-o', path.join(tmp, 'own'), ...flags], { stdio: 'pipe' });
    const out = execFileSync(path.join(tmp, 'own'), ['--help']).toString();
    assert.match(out, /--port N/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
