// pg.mjs -- a throwaway PostgreSQL cluster for the data-layer tests.
//
//   import { startPostgres } from '../lib/pg.mjs';
//   const pg = await startPostgres();         // initdb + pg_ctl start
//   after(() => pg.stop());                   // ALWAYS (it is also stopped at exit)
//   pg.url                                    // postgres://postgres@127.0.0.1:PORT/kiln
//   const url2 = pg.createDb('other');        // another empty database
//   pg.psql('SELECT 1')                       // '1' (psql -At)
//   await pg.restart({ downMs: 300 })         // fast shutdown, wait, start again
//   await pg.down(); await pg.up();           // the two halves of restart
//   await pg.kill()                           // SIGKILL the postmaster (a crash)
//   await startPostgres({ host: '10.0.0.5', wrap: ['ip','netns','exec','ns'] })
//                                             // in a network namespace, on its address
//
// What it owns: one temporary directory (the data directory, the unix
// socket, the server log) and the postgres processes started from it. The
// cluster listens on 127.0.0.1 only, on a free port, with trust
// authentication (-A trust) and fsync off (the tests kill Kiln, not the
// machine).
// What it must never do: touch any other cluster, listen on anything but the
// loopback address, or outlive the test process (stop() removes everything;
// a process 'exit' hook stops whatever is still running).
//
// As root, initdb and postgres refuse to run, so they run as the `postgres`
// user via `su postgres -c`, in a directory chowned to that user. When the
// PostgreSQL server binaries are missing, startPostgres() throws: the tests
// that need PostgreSQL fail (scripts/deps.sh test installs them).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './server.mjs';
import { alive as pidAlive, childrenOf } from './procs.mjs';

// The newest /usr/lib/postgresql/N/bin that has initdb, or null.
export function findPgBin() {
  const root = '/usr/lib/postgresql';
  let versions = [];
  try {
    versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

const isRoot = process.getuid?.() === 0;
const clusters = new Set(); // running clusters, stopped at exit

process.on('exit', () => {
  for (const c of clusters) c.stopSync();
});

// Quote a word for sh.
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

// Runs a PostgreSQL server binary (as `postgres` when we are root).
// wrap: a command prefix (ip netns exec NS) for the server to run under.
function pgRun(bin, prog, args, { timeoutMs = 60_000, allowFail = false, wrap = [] } = {}) {
  const exe = path.join(bin, prog);
  let r;
  const run = (cmd, argv) =>
    spawnSync(wrap.length ? wrap[0] : cmd, [...wrap.slice(1), ...(wrap.length ? [cmd] : []), ...argv], { encoding: 'utf8', timeout: timeoutMs });
  if (isRoot) {
    const cmd = [exe, ...args].map(q).join(' ');
    r = run('su', ['postgres', '-s', '/bin/sh', '-c', cmd]);
  } else {
    r = run(exe, args);
  }
  if (!allowFail && (r.error || r.status !== 0)) {
    throw new Error(
      `${prog} ${args.join(' ')} failed (${r.error ? r.error.message : `exit ${r.status}`}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r;
}


// host: the one address it listens on (127.0.0.1, or an address in the
// namespace that `wrap` runs it in).
export async function startPostgres({ dbName = 'kiln', host = '127.0.0.1', wrap = [] } = {}) {
  const bin = findPgBin();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin ' +
        '(install the `postgresql` package: scripts/deps.sh test)',
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (isRoot) execFileSync('chown', ['-R', 'postgres:', dir]);
  fs.chmodSync(dir, 0o755);

  pgRun(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  // Off loopback (a namespace's own address): trust the clients on its
  // subnet too (the machines of the test's network), nobody else.
  if (host !== '127.0.0.1') fs.appendFileSync(path.join(data, 'pg_hba.conf'), 'host all all samenet trust\n');

  let port = 0;
  let postmasterPid = 0;
  let stopped = false;

  const readPid = () => {
    try {
      return Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || 0;
    } catch {
      return 0;
    }
  };
  const logTail = () => {
    try {
      return fs.readFileSync(log, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };

  const startOnce = (p) => {
    const opts = [
      `-p ${p}`,
      `-c listen_addresses=${host}`,
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
    ].join(' ');
    return pgRun(bin, 'pg_ctl', ['-D', data, '-l', log, '-o', opts, '-w', '-t', '30', 'start'], { allowFail: true, wrap });
  };

  const up = async () => {
    if (stopped) throw new Error('this PostgreSQL cluster was stopped for good');
    // The port of the first start is kept across restarts (Kiln's
    // DATABASE_URL names it); it may only be chosen anew on the first start.
    for (let attempt = 0; ; attempt++) {
      const p = port || (await freePort());
      const r = startOnce(p);
      if (r.status === 0) {
        port = p;
        postmasterPid = readPid();
        clusters.add(cluster);
        return;
      }
      const why = `${r.stdout}${r.stderr}\n${logTail()}`;
      if (port || attempt >= 2 || !/already in use|could not bind|could not create any TCP/i.test(why)) {
        throw new Error(`pg_ctl start failed:\n${why}`);
      }
    }
  };

  const waitGone = async (pid, ms) => {
    const deadline = Date.now() + ms;
    while (pid && pidAlive(pid) && Date.now() < deadline) await sleep(20);
    return !pid || !pidAlive(pid);
  };
  // After a SIGKILL: the postmaster's pid must be gone for good (a zombie
  // not yet reaped still counts as "running" for the next postmaster's lock
  // file check), and so must its children (they hold the shared memory).
  const waitReaped = async (pid, kids, ms) => {
    const deadline = Date.now() + ms;
    const exists = (p) => fs.existsSync(`/proc/${p}`);
    while (Date.now() < deadline && (exists(pid) || kids.some(pidAlive))) await sleep(20);
    if (exists(pid)) fs.rmSync(path.join(data, 'postmaster.pid'), { force: true });
  };

  // Stops the server with the given pg_ctl mode (fast: backends get
  // "terminating connection due to administrator command").
  const down = async ({ mode = 'fast' } = {}) => {
    const pid = postmasterPid || readPid();
    pgRun(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'], { allowFail: true });
    if (!(await waitGone(pid, 10_000))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await waitGone(pid, 5000);
    }
    postmasterPid = 0;
  };

  const cluster = {
    bin,
    dir,
    get port() {
      return port;
    },
    get url() {
      return `postgres://postgres@${host}:${port}/${dbName}`;
    },
    get pid() {
      return postmasterPid;
    },
    urlFor: (db) => `postgres://postgres@${host}:${port}/${db}`,
    logTail,
    // psql -At as the postgres superuser; returns stdout without the final
    // newline. Throws on an SQL error.
    psql(sql, { db = dbName } = {}) {
      const r = spawnSync(
        path.join(bin, 'psql'),
        ['-h', host, '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql],
        { encoding: 'utf8', timeout: 30_000 },
      );
      if (r.error || r.status !== 0) {
        throw new Error(`psql -c ${JSON.stringify(sql)} failed: ${r.error?.message ?? ''}${r.stderr}`);
      }
      return r.stdout.replace(/\n$/, '');
    },
    // A new empty database; returns its URL.
    createDb(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      cluster.psql(`CREATE DATABASE ${name}`, { db: 'postgres' });
      return cluster.urlFor(name);
    },
    up,
    down,
    async restart({ downMs = 0, mode = 'fast' } = {}) {
      await down({ mode });
      if (downMs) await sleep(downMs);
      await up();
    },
    // SIGKILL the postmaster (its backends notice and exit), like a crash.
    async kill() {
      const pid = postmasterPid || readPid();
      if (pid) {
        const kids = childrenOf(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await waitReaped(pid, kids, 5000);
      }
      postmasterPid = 0;
    },
    // Stops the cluster for good and removes its directory. Safe to call
    // twice; never throws.
    async stop() {
      if (stopped) return;
      await down({ mode: 'immediate' }).catch(() => {});
      cluster.stopSync();
    },
    stopSync() {
      if (stopped) return;
      stopped = true;
      clusters.delete(cluster);
      const pid = postmasterPid || readPid();
      if (pid && pidAlive(pid)) {
        pgRun(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], { allowFail: true });
        if (pidAlive(pid)) {
          for (const c of childrenOf(pid)) {
            try {
              process.kill(c, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await up();
    cluster.psql(`CREATE DATABASE ${dbName}`, { db: 'postgres' });
  } catch (e) {
    cluster.stopSync();
    throw e;
  }
  return cluster;
}
