// migrations.test.mjs -- db/migrations on SQLite and on PostgreSQL, with
// the dbapp fixture (001_schema.sqlite.sql / 001_schema.pg.sql, 002_seed.sql
// for both, 003_pick.sql with a 003_pick.pg.sql override):
//  - `kiln start` applies them once, in order, the dialect file chosen by the
//    backend; a restart applies nothing (kiln_migrations rows, marker rows);
//  - a new file is applied on the next start, and only it;
//  - a broken migration stops the start (non-zero exit, a message naming
//    the file) and leaves nothing half-applied;
//  - `kiln migrate APP` works standalone, twice, and concurrently.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KILN, startServer, freePort } from '../lib/server.mjs';
import { BACKENDS, appOnBackends, cloneApp, backendFor, http } from '../lib/db.mjs';

const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/;
const { app, getPg } = appOnBackends('tests/fixtures/dbapp');

// Runs `kiln ARGS` to its end (30 s at most). {code, signal, stdout, stderr}.
function kiln(args, env) {
  return new Promise((resolve) => {
    const child = spawn(KILN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      assert.doesNotMatch(stderr, SANITIZER_RE, `sanitizer report from kiln ${args.join(' ')}`);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const applied = (text) => [...text.matchAll(/kiln: applied migration (\S+)/g)].map((m) => m[1]);

for (const kind of BACKENDS) {
  const dialect = kind === 'sqlite' ? 'sqlite' : 'pg';
  const EXPECTED_FILES = [`001_schema.${dialect}.sql`, '002_seed.sql', kind === 'sqlite' ? '003_pick.sql' : '003_pick.pg.sql'];
  const EXPECTED_MARKER = [`001 ${dialect}`, '002 plain', `003 ${kind === 'sqlite' ? 'plain' : 'pg'}`];
  const NAMES = ['001_schema', '002_seed', '003_pick'];

  describe(`migrations on ${kind}`, () => {
    const cleanup = [];
    after(async () => {
      for (const f of cleanup.reverse()) await f();
    });
    const fresh = async (name) => {
      const pg = kind === 'postgres' ? await getPg() : null;
      const a = cloneApp(app);
      cleanup.push(() => a.remove());
      return { a, be: backendFor(kind, a, pg, name), pg };
    };
    const start = async (a, be) => {
      const srv = await startServer(a.dir, { workers: 1, env: be.env });
      cleanup.push(() => srv.stop());
      return srv;
    };

    test('applied once at start, dialect files by backend; a restart applies nothing', async () => {
      const { a, be, pg } = await fresh('once');
      const s1 = await start(a, be);
      assert.deepEqual(applied(s1.stdoutText()), EXPECTED_FILES);
      const m1 = await http(s1.port, '/api/migrations');
      assert.equal(m1.status, 200);
      assert.deepEqual(m1.json, { applied: NAMES, marker: EXPECTED_MARKER });
      await s1.stop();

      const s2 = await start(a, be);
      assert.deepEqual(applied(s2.stdoutText()), [], 'nothing applied on the second start');
      const m2 = await http(s2.port, '/api/migrations');
      assert.deepEqual(m2.json, { applied: NAMES, marker: EXPECTED_MARKER }, 'no migration ran twice');
      if (pg) {
        assert.equal(pg.psql('SELECT count(*) FROM kiln_migrations', { db: be.db }), '3');
        assert.equal(pg.psql("SELECT string_agg(what, '|' ORDER BY id) FROM marker", { db: be.db }), EXPECTED_MARKER.join('|'));
      }
      await s2.stop();

      // A new file is applied on the next start, and only it.
      fs.writeFileSync(path.join(a.dir, 'db/migrations/004_more.sql'), "INSERT INTO marker (what) VALUES ('004 plain');\n");
      const s3 = await start(a, be);
      assert.deepEqual(applied(s3.stdoutText()), ['004_more.sql']);
      const m3 = await http(s3.port, '/api/migrations');
      assert.deepEqual(m3.json, { applied: [...NAMES, '004_more'], marker: [...EXPECTED_MARKER, '004 plain'] });
    });

    test('a broken migration stops the start: non-zero exit, the file named, nothing half-applied', async () => {
      const { a, be } = await fresh('broken');
      const broken = path.join(a.dir, 'db/migrations/005_broken.sql');
      fs.writeFileSync(
        broken,
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO marker (what) VALUES ('005 half');\nINSERT INTO no_such_table VALUES (1);\n",
      );
      const port = await freePort();
      const r = await kiln(['start', a.dir, '--port', String(port), '--workers', '1'], be.env);
      assert.notEqual(r.code, 0, `kiln start exited ${r.code} (${r.signal}); stderr: ${r.stderr}`);
      assert.match(r.stderr, /db\/migrations\/005_broken\.sql/, r.stderr);
      assert.match(r.stderr, /no_such_table/);
      assert.doesNotMatch(r.stderr, /server listening/);
      // The good ones before it were applied (each in its own transaction).
      assert.deepEqual(applied(r.stdout), EXPECTED_FILES);

      // `kiln migrate` says the same.
      const m = await kiln(['migrate', a.dir], be.env);
      assert.notEqual(m.code, 0);
      assert.match(m.stderr, /db\/migrations\/005_broken\.sql/);

      // Without the broken file the app starts, and 005 left nothing behind.
      fs.rmSync(broken);
      const srv = await start(a, be);
      assert.deepEqual(applied(srv.stdoutText()), []);
      const st = await http(srv.port, '/api/migrations?table=half_done');
      assert.deepEqual(st.json, { applied: NAMES, marker: EXPECTED_MARKER, exists: false });
      const items = await http(srv.port, '/api/migrations?table=items');
      assert.equal(items.json.exists, true);
    });

    test('`kiln migrate APP` standalone: applies, then has nothing to do; the server applies nothing more', async () => {
      const { a, be } = await fresh('cli');
      const m1 = await kiln(['migrate', a.dir], be.env);
      assert.equal(m1.code, 0, m1.stderr);
      assert.deepEqual(applied(m1.stdout), EXPECTED_FILES);
      assert.equal(m1.stderr, '', 'nothing on stderr (no server notices either)');
      if (kind === 'sqlite') assert.ok(fs.existsSync(be.file), 'the database file was created');
      const m2 = await kiln(['migrate', a.dir], be.env);
      assert.equal(m2.code, 0, m2.stderr);
      assert.deepEqual(applied(m2.stdout), []);
      assert.equal(m2.stderr, '', 'nothing on stderr ("already exists, skipping" notices are dropped)');
      const srv = await start(a, be);
      assert.deepEqual(applied(srv.stdoutText()), []);
      assert.deepEqual((await http(srv.port, '/api/migrations')).json, { applied: NAMES, marker: EXPECTED_MARKER });
    });

    test('concurrent `kiln migrate` runs on a new database apply each migration exactly once', async () => {
      // Several rounds: the race (who creates the database, who switches it
      // to WAL, who applies) goes differently each time.
      for (let round = 0; round < (kind === 'sqlite' ? 6 : 2); round++) {
        const { a, be } = await fresh(`race${round}`);
        const runs = await Promise.all([1, 2, 3, 4].map(() => kiln(['migrate', a.dir], be.env)));
        for (const r of runs) assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
        assert.deepEqual(runs.flatMap((r) => applied(r.stdout)).sort(), [...EXPECTED_FILES].sort());
        if (round === 0) {
          const srv = await start(a, be);
          assert.deepEqual((await http(srv.port, '/api/migrations')).json, { applied: NAMES, marker: EXPECTED_MARKER });
        }
      }
    });

    if (kind === 'sqlite') {
      test('without DATABASE_URL: SQLite at APP/data/app.db', async () => {
        const a = cloneApp(app);
        cleanup.push(() => a.remove());
        const m = await kiln(['migrate', a.dir], { DATABASE_URL: '' });
        assert.equal(m.code, 0, m.stderr);
        assert.deepEqual(applied(m.stdout), ['001_schema.sqlite.sql', '002_seed.sql', '003_pick.sql']);
        assert.ok(fs.statSync(path.join(a.dir, 'data/app.db')).size > 0);
      });
    }
  });
}
