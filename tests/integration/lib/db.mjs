// db.mjs -- helpers for the data-layer tests (tests/integration/db/), on top
// of server.mjs and pg.mjs.
//
//   const app = copyApp('examples/blog');          // private copy in /tmp
//   buildApp(app.dir);
//   const be = await backendFor('sqlite', app, pg); // {name, env, ...}
//   const srv = await startServer(app.dir, { workers: 2, env: be.env });
//   const r = await http(srv.port, '/api/posts', { method: 'POST', json: {...} });
//
// What it owns: temporary copies of app folders (removed by app.remove(),
// and at exit), and nothing else.
// What it must never do: talk to anything but 127.0.0.1, or write into the
// repository (apps are built and their databases live in the copies).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, after } from 'node:test';
import { REPO, buildApp } from './server.mjs';
import { startPostgres } from './pg.mjs';

export const BACKENDS = ['sqlite', 'postgres'];

const copies = new Set();
process.on('exit', () => {
  for (const d of copies) fs.rmSync(d, { recursive: true, force: true });
});

// The set-up of a test file that runs one app on each backend: the app
// copied (copyApp) and built before the file's tests, PostgreSQL started on
// the first getPg() (once), both stopped and removed after them.
// Returns {app, getPg}.
export function appOnBackends(src) {
  const app = copyApp(src);
  let pgPromise = null;
  const getPg = () => (pgPromise ??= startPostgres());
  before(() => buildApp(app.dir));
  after(async () => {
    if (pgPromise) await (await pgPromise.catch(() => null))?.stop();
    app.remove();
  });
  return { app, getPg };
}

// Copies an app folder's sources (pages/, lib/, db/) into a new temporary
// folder. Returns {dir, remove()}.
export function copyApp(src, { without = [] } = {}) {
  const from = path.resolve(REPO, src);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-${path.basename(from)}-`));
  copies.add(dir);
  for (const sub of ['pages', 'lib', 'db']) {
    const p = path.join(from, sub);
    if (fs.existsSync(p)) fs.cpSync(p, path.join(dir, sub), { recursive: true });
  }
  for (const w of without) fs.rmSync(path.join(dir, w), { recursive: true, force: true });
  return {
    dir,
    remove() {
      copies.delete(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A full copy of an app folder that was already built (its .kiln/ too: the
// server finds its app folder from `kiln start DIR`, so a copy runs as is).
// Returns {dir, remove()}.
export function cloneApp(app) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-${path.basename(app.dir)}-`));
  copies.add(dir);
  fs.cpSync(app.dir, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
  return {
    dir,
    remove() {
      copies.delete(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The server environment for one backend, with a database of its own:
//   sqlite:   DATABASE_URL=sqlite:<a new file in the app copy>
//   postgres: a new database in the cluster pg (from startPostgres()).
// name is used to keep databases apart ('posts', 'tx' ...).
let dbCounter = 0;
export function backendFor(kind, app, pg, name = 'db') {
  const id = `${name}_${process.pid}_${++dbCounter}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  if (kind === 'sqlite') {
    const file = path.join(app.dir, 'data', `${id}.db`);
    return { name: kind, url: `sqlite:${file}`, file, env: { DATABASE_URL: `sqlite:${file}` } };
  }
  if (kind === 'postgres') {
    if (!pg) throw new Error('backendFor(postgres) needs a running cluster (startPostgres())');
    const url = pg.createDb(id);
    return { name: kind, url, db: id, env: { DATABASE_URL: url } };
  }
  throw new Error(`unknown backend ${kind}`);
}

// One request with node:http: extra.mjs's request() (opts: method, headers,
// body, json, timeoutMs, agent; {status, headers, rawHeaders, body, text,
// json, ms}).
export { request as http } from './extra.mjs';

// pid and all its descendants (children first found through
// /proc/PID/task/*/children), depth first.
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = fs.readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.split(/\s+/).filter(Boolean)) {
        const n = Number(k);
        if (!out.includes(n)) out.push(n);
      }
    }
  }
  return out;
}

// True while pid exists and is not a zombie.
export { alive } from './procs.mjs';

// Percentile p (0..100) of numbers, nearest rank.
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))];
}

// Runs fn(i) for i in 0..n-1 with at most `limit` running at once; returns
// the results in order.
export async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  const run = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, run));
  return out;
}
