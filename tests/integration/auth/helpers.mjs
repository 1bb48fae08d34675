// helpers.mjs -- what the auth and middleware tests share: a private built
// copy of an app, a fresh database per server on either backend, and a small
// HTTP client that speaks cookies, bearer tokens and JSON.
//
//   const app = prepareApp('examples/blog', 'blog-auth');   // built copy
//   const s = await startOn(app, 'sqlite', { env: {...} });  // or 'postgres'
//   after(() => s.stop());
//   const r = await s.api.post('/api/auth/login', { json: {...} });
//   r.status, r.json, r.headers, r.cookies.session ({value, attrs})
//
// What it owns: $KILN_BUILD/test-fixtures/<name> (one per test file, so test
// files never build over each other, and a sanitizer run never shares objects
// with a plain one), one temporary SQLite folder per server, and at most one
// PostgreSQL cluster per test process (a new database in it per server).
// What it must never do: talk to anything but 127.0.0.1, or leave a server
// or a cluster running (stopAll() at the end of each file; server.mjs and
// pg.mjs also kill what is left at exit).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { REPO, KILN_BUILD, buildApp, startServer } from '../lib/server.mjs';
import { startPostgres } from '../lib/pg.mjs';

export const BACKENDS = ['sqlite', 'postgres'];

// Copies pages/, lib/, db/, graphql/ and middleware.c of srcRel into a private folder
// (timestamps kept, so rebuilds stay incremental) and builds it there.
export function prepareApp(srcRel, name) {
  const src = path.resolve(REPO, srcRel);
  const dst = path.resolve(REPO, KILN_BUILD, 'test-fixtures', name);
  fs.mkdirSync(dst, { recursive: true });
  for (const sub of ['pages', 'lib', 'db', 'graphql', 'middleware.c', 'data']) {
    fs.rmSync(path.join(dst, sub), { recursive: true, force: true });
    if (sub !== 'data' && fs.existsSync(path.join(src, sub))) {
      fs.cpSync(path.join(src, sub), path.join(dst, sub), { recursive: true, preserveTimestamps: true });
    }
  }
  buildApp(dst);
  return dst;
}

// ---------------------------------------------------------------------------
// Databases

let pgCluster = null;
let dbCount = 0;
const tmpDirs = [];

// A fresh, empty database: {url, backend, pg (the cluster, for postgres)}.
export async function freshDatabase(backend, label = 'auth') {
  dbCount++;
  if (backend === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-auth-'));
    tmpDirs.push(dir);
    return { backend, url: `sqlite:${path.join(dir, 'app.db')}`, file: path.join(dir, 'app.db') };
  }
  pgCluster ??= startPostgres();
  const pg = await pgCluster;
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${dbCount}`;
  return { backend, url: pg.createDb(name), pg, name };
}

// Runs SQL against a database from freshDatabase(); returns psql/sqlite3
// -At style text (rows on lines, columns joined by '|'). SQLite needs the
// sqlite3 command (Debian package sqlite3).
export async function sql(db, text) {
  if (db.backend === 'postgres') return db.pg.psql(text, { db: db.name });
  const r = spawnSync('sqlite3', [db.file, text], { encoding: 'utf8' });
  if (r.error) throw new Error(`the sqlite3 command is needed here (apt-get install sqlite3): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`sqlite3 ${JSON.stringify(text)}: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

// Starts a built app on a fresh database. Returns {srv, db, api, port, stop}.
export async function startOn(appDir, backend, { workers = 1, env = {}, db } = {}) {
  db ??= await freshDatabase(backend, path.basename(appDir));
  const srv = await startServer(appDir, { workers, env: { DATABASE_URL: db.url, ...env } });
  const s = { srv, db, port: srv.port, api: client(srv.port), stop: () => srv.stop() };
  servers.add(s);
  return s;
}

const servers = new Set();

// Stops every server started here, then the PostgreSQL cluster; removes the
// SQLite folders. Call it from the file's top-level after().
export async function stopAll() {
  const errors = [];
  for (const s of servers) {
    try {
      await s.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  servers.clear();
  if (pgCluster) {
    const pg = await pgCluster.catch(() => null);
    pgCluster = null;
    await pg?.stop();
  }
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  if (errors.length) throw errors[0];
}

// ---------------------------------------------------------------------------
// HTTP

// Parses Set-Cookie values into {name: {value, attrs: {lower-case name: value|true}}}.
export function parseSetCookies(list = []) {
  const out = {};
  for (const line of list) {
    const [first, ...rest] = line.split(';').map((s) => s.trim());
    const eq = first.indexOf('=');
    const attrs = {};
    for (const a of rest) {
      const i = a.indexOf('=');
      if (i < 0) attrs[a.toLowerCase()] = true;
      else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    out[first.slice(0, eq)] = { value: first.slice(eq + 1), attrs, raw: line };
  }
  return out;
}

// One request with node:http (full control over Host, Origin, Cookie).
//   opts: method, json (sent as application/json), body, headers, cookie
//   (the session cookie's value), bearer (a token), agent (default: a new
//   connection per request), localAddress (another 127.x.y.z: another
//   client address), timeoutMs.
// Returns {status, headers, text, json, cookies, ms}.
export function request(port, p, opts = {}) {
  const { method = 'GET', json, cookie, bearer, agent = false, localAddress, timeoutMs = 30_000 } = opts;
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (json !== undefined) {
    body = typeof json === 'string' ? json : JSON.stringify(json);
    headers['content-type'] ??= 'application/json';
  }
  if (cookie !== undefined) headers.cookie = `session=${cookie}`;
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent, localAddress }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        if (/json/.test(res.headers['content-type'] || '')) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
        }
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text,
          json: parsed,
          cookies: parseSetCookies(res.headers['set-cookie']),
          ms,
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${method} ${p}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function client(port) {
  const call = (method) => (p, opts = {}) => request(port, p, { ...opts, method });
  return {
    port,
    get: call('GET'),
    post: call('POST'),
    put: call('PUT'),
    patch: call('PATCH'),
    del: call('DELETE'),
    options: call('OPTIONS'),
    request: (p, opts) => request(port, p, opts),
  };
}

// ---------------------------------------------------------------------------
// The blog's accounts

let emailCount = 0;
export function uniqueEmail(tag = 'user') {
  emailCount++;
  return `${tag}.${process.pid}.${emailCount}@example.com`;
}

// Signs up and logs in; returns {email, password, id, token}.
export async function signupAndLogin(api, { email = uniqueEmail(), password = 'correct horse battery' } = {}) {
  const su = await api.post('/api/auth/signup', { json: { email, password } });
  if (su.status !== 201) throw new Error(`signup ${email}: ${su.status} ${su.text}`);
  const li = await api.post('/api/auth/login', { json: { email, password } });
  if (li.status !== 200) throw new Error(`login ${email}: ${li.status} ${li.text}`);
  return { email, password, id: su.json.id, token: li.json.token, cookie: li.cookies.session?.value };
}

// Statistics.
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
export const median = (v) => percentile(v, 50);
