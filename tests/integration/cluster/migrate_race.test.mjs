// migrate_race.test.mjs -- N machines started at the same moment against one
// PostgreSQL apply each migration exactly once, and none serves before the
// migrations are in (issue 11).
//
// Three `kiln start` processes (the dbapp fixture, one worker each, three
// ports) are spawned together against one throwaway database. An extra
// migration, 004_slow.pg.sql, sleeps 2 s and then creates a table WITHOUT
// `IF NOT EXISTS`: applied a second time it would fail, and that server
// would exit non-zero. The test checks:
//  - every migration file is reported applied by exactly one process, and
//    kiln_migrations / marker / once_only hold exactly one row per migration;
//  - at least one process waited for the lock (the race really happened);
//  - no port accepted a connection before 004 had committed (its row's
//    clock_timestamp() is earlier than every server's first accept);
//  - all three then serve the same migrated data, and stop cleanly.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KILN, buildApp, freePort } from '../lib/server.mjs';
import { startPostgres } from '../lib/pg.mjs';
import { copyApp, http } from '../lib/db.mjs';

const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/;
const app = copyApp('tests/fixtures/dbapp');
fs.writeFileSync(
  path.join(app.dir, 'db/migrations/004_slow.pg.sql'),
  [
    '-- Slow, and fatal when applied twice (no IF NOT EXISTS).',
    'SELECT pg_sleep(2);',
    'CREATE TABLE once_only (done_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());',
    'INSERT INTO once_only DEFAULT VALUES;',
    "INSERT INTO marker (what) VALUES ('004 slow');",
    '',
  ].join('\n'),
);

let pg = null;
const procs = [];
after(async () => {
  // The whole process group: a master killed alone would orphan its worker.
  for (const p of procs) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await pg?.stop();
  app.remove();
});

// Spawns `kiln start` on a port; resolves nothing, records output.
function startKiln(port, env) {
  const child = spawn(KILN, ['start', app.dir, '--port', String(port), '--workers', '1', '--host', '127.0.0.1'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, killed whole by after()
  });
  procs.push(child);
  const s = { child, port, stdout: '', stderr: '', firstAccept: 0 };
  child.stdout.on('data', (d) => (s.stdout += d));
  child.stderr.on('data', (d) => (s.stderr += d));
  s.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return s;
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

const applied = (text) => [...text.matchAll(/kiln: applied migration (\S+)/g)].map((m) => m[1]);

test('three machines started together: each migration once, nobody serves before they are in', async () => {
  buildApp(app.dir);
  pg = await startPostgres();
  const url = pg.createDb('race');
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = ports.map((p) => startKiln(p, { DATABASE_URL: url }));

  // Poll every port until each accepts (first accept time recorded), or 30 s.
  const deadline = Date.now() + 30_000;
  await Promise.all(
    servers.map(async (s) => {
      while (Date.now() < deadline && s.child.exitCode === null) {
        if (await canConnect(s.port)) {
          s.firstAccept = Date.now();
          return;
        }
        await sleep(10);
      }
    }),
  );
  for (const s of servers)
    assert.ok(s.firstAccept > 0, `port ${s.port} never served; exit ${s.child.exitCode}\n${s.stderr}`);

  // Exactly once, across the three.
  const all = servers.flatMap((s) => applied(s.stdout)).sort();
  assert.deepEqual(all, ['001_schema.pg.sql', '002_seed.sql', '003_pick.pg.sql', '004_slow.pg.sql']);
  assert.equal(pg.psql('SELECT count(*) FROM kiln_migrations', { db: 'race' }), '4');
  assert.equal(pg.psql('SELECT count(*) FROM once_only', { db: 'race' }), '1');
  assert.equal(
    pg.psql("SELECT string_agg(what, '|' ORDER BY id) FROM marker", { db: 'race' }),
    '001 pg|002 plain|003 pg|004 slow',
  );
  const waited = servers.filter((s) => /another process is applying migrations; waiting/.test(s.stderr)).length;
  assert.ok(waited >= 1, 'at least one process found the lock taken (the start was really concurrent)');

  // Nobody accepted before 004 was in.
  const doneAt = Number(pg.psql('SELECT (extract(epoch FROM done_at) * 1000)::bigint FROM once_only', { db: 'race' }));
  for (const s of servers)
    assert.ok(s.firstAccept >= doneAt, `port ${s.port} accepted ${doneAt - s.firstAccept} ms before the migration was in`);
  console.log(
    `# migrations applied by ${servers.filter((s) => applied(s.stdout).length).length} of 3 processes; ` +
      `${waited} waited for the lock; first accepts ${servers.map((s) => s.firstAccept - doneAt).join(', ')} ms after 004 was in`,
  );

  // All three serve the same migrated state.
  for (const s of servers) {
    const r = await http(s.port, '/api/migrations?table=once_only');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {
      applied: ['001_schema', '002_seed', '003_pick', '004_slow'],
      marker: ['001 pg', '002 plain', '003 pg', '004 slow'],
      exists: true,
    });
  }

  for (const s of servers) s.child.kill('SIGTERM');
  for (const s of servers) {
    const { code } = await s.exited;
    assert.equal(code, 0, `kiln on ${s.port} exited ${code}\n${s.stderr}`);
    assert.doesNotMatch(s.stderr, SANITIZER_RE);
  }
});
