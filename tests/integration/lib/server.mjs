// server.mjs -- shared helpers for Kiln's integration tests (node --test).
//
// What it owns: building an app folder with `$KILN build DIR`, running
// `$KILN start DIR --port P --workers W` on a free port, capturing the
// server's stderr (JSON log lines), stopping it; talking raw bytes to a port;
// and a small HTTP/1.1 response parser for those bytes.
//
// What it must never do: talk to anything but 127.0.0.1, or leave a server
// running (every server started here is killed when the test process exits).
//
//   import { startApp, rawRequest, parseResponses } from '../lib/server.mjs';
//   const srv = await startApp('tests/fixtures/app', { workers: 1 });
//   after(() => srv.stop());
//   const res = await srv.fetch('/api/hello');          // global fetch
//   const bytes = await rawRequest(srv.port, 'GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n');
//   const [r] = parseResponses(bytes).responses;          // {status, headers, body}
//
// Environment: KILN (the kiln command; default build/kiln), KILN_BUILD.
// ASAN_OPTIONS etc. pass through to the server. srv.stop() throws when the
// server's stderr holds a sanitizer report, so a memory error in the server
// fails the test that ran it.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { processes } from './procs.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KILN = process.env.KILN || path.join(REPO, 'build/kiln');
export const KILN_BUILD = process.env.KILN_BUILD || path.dirname(KILN);

const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer)|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/;

// ---------------------------------------------------------------------------
// Build

// `$KILN build DIR`. Throws (failing the test) with the compiler's output
// when the build fails. Returns {stdout, stderr}.
export function buildApp(dir, { env = {}, timeoutMs = 180_000 } = {}) {
  const appDir = path.resolve(REPO, dir);
  const r = spawnSync(KILN, ['build', appDir], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.error) {
    throw new Error(`kiln build ${dir}: could not run ${KILN}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    throw new Error(
      `kiln build ${dir} failed (exit ${r.status}${r.signal ? `, signal ${r.signal}` : ''}):\n` +
        `${r.stdout}${r.stderr}`,
    );
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------------------
// Ports

// A port that was free a moment ago: bind port 0 on 127.0.0.1, read, close.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// True once something accepts on host:port.
function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const c = net.connect({ port, host });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

// Waits until the port accepts; rejects after timeoutMs, or at once when
// isDead() says the server process is gone. host: 127.0.0.1 unless given.
export async function waitForPort(port, { host, timeoutMs = 10_000, isDead = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (isDead()) throw new Error(`server exited before port ${port} opened`);
    if (await canConnect(port, host)) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------
// Servers

const live = new Set(); // every server still running, killed on exit

process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});
// The test runner stops a file that runs too long with a signal: take the
// servers down with it.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const child of live) killGroup(child, 'SIGKILL');
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

// True while a live (not zombie) process is left in the server's process
// group. Reads /proc: a zombie nobody has reaped yet would fool kill(-pg, 0).
function groupAlive(child) {
  return processes().some((p) => p.pgrp === child.pid && p.state !== 'Z' && p.state !== 'X');
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal); // the server and its workers
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

// Starts `$KILN start DIR --port P --workers W` (DIR already built) and waits
// until the port accepts connections (10 s). Options:
//   workers  (default 1), port (default: a free one), args (more arguments),
//   env      (added to the environment), timeoutMs (start timeout).
// Returns a server handle:
//   port, url ('http://127.0.0.1:P'), proc (the ChildProcess)
//   stderrLines()         every stderr line so far
//   logs()                the stderr lines that parse as JSON objects
//   stderrText()          stderr as one string
//   waitForLog(pred, ms)  resolves with the first JSON log line for which
//                         pred(obj) is true (past or future)
//   fetch(path, init)     global fetch against this server
//   exited                promise of {code, signal} when the process ends
//   stop({allowSanitizer, graceMs}) SIGTERM to the server, SIGKILL to its
//                         process group after graceMs (5 s); resolves
//                         {code, signal, killed, orphans, stderr}: killed =
//                         it needed SIGKILL, orphans = workers outlived the
//                         server process. Throws if stderr holds a sanitizer
//                         report (unless allowSanitizer). Safe to call twice.
export async function startServer(dir, opts = {}) {
  const { workers = 1, args = [], env = {}, timeoutMs = 10_000 } = opts;
  const appDir = path.resolve(REPO, dir);
  // The port may be taken between freePort() and the server's bind: retry.
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    const srv = spawnServer(appDir, port, workers, args, env);
    try {
      await waitForPort(port, { timeoutMs, isDead: () => srv.dead });
      return srv;
    } catch (e) {
      lastErr = e;
      const bindFailed = /EADDRINUSE|address already in use/i.test(srv.stderrText());
      await srv.stop({ allowSanitizer: true }).catch(() => {});
      if (!bindFailed || opts.port != null) {
        throw new Error(
          `kiln start ${dir} --port ${port}: ${e.message}\n--- server stderr ---\n${srv.stderrText()}`,
        );
      }
    }
  }
  throw lastErr;
}

// buildApp + startServer.
export async function startApp(dir, opts = {}) {
  buildApp(dir, opts);
  return startServer(dir, opts);
}

function spawnServer(appDir, port, workers, args, env) {
  const argv = ['start', appDir, '--port', String(port), '--workers', String(workers), ...args];
  const child = spawn(KILN, argv, {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: stop() can reach the workers too
  });
  live.add(child);

  const lines = [];
  const waiters = [];
  let partial = '';
  let stdout = '';
  const onLine = (line) => {
    lines.push(line);
    let obj;
    try {
      obj = JSON.parse(line);
    } catch {
      return;
    }
    if (obj === null || typeof obj !== 'object') return;
    for (const w of [...waiters]) {
      if (w.pred(obj)) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(obj);
      }
    }
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    partial += chunk;
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      onLine(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });

  const srv = {
    port,
    url: `http://127.0.0.1:${port}`,
    proc: child,
    dead: false,
    exitInfo: null,
    stderrLines: () => (partial ? [...lines, partial] : [...lines]),
    stderrText: () => lines.join('\n') + (lines.length ? '\n' : '') + partial,
    stdoutText: () => stdout,
    logs: () =>
      lines
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return null;
          }
        })
        .filter((o) => o !== null && typeof o === 'object'),
    waitForLog(pred, timeoutMs = 5000) {
      const seen = srv.logs().find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${srv.stderrText()}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    fetch: (p, init) => fetch(srv.url + p, init),
    exited: null,
    stop: null,
  };
  srv.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      srv.dead = true;
      srv.exitInfo = { code, signal };
      live.delete(child);
      resolve(srv.exitInfo);
    });
    child.once('error', (err) => {
      lines.push(`spawn ${KILN}: ${err.message}`);
      srv.dead = true;
      srv.exitInfo = { code: null, signal: null, error: err };
      live.delete(child);
      resolve(srv.exitInfo);
    });
  });

  // SIGTERM goes to the server process itself (it must pass the shutdown on
  // to its workers); SIGKILL, after graceMs, to its whole process group.
  let stopping = null;
  srv.stop = ({ allowSanitizer = false, graceMs = 5000 } = {}) => {
    stopping ??= (async () => {
      let killed = false;
      if (!srv.dead) {
        try {
          child.kill('SIGTERM');
        } catch {
          /* gone */
        }
        const t = setTimeout(() => {
          killed = true;
          killGroup(child, 'SIGKILL');
        }, graceMs);
        await srv.exited;
        clearTimeout(t);
      }
      // Workers still alive once the server process is gone: give them the
      // rest of the grace time, then kill them (and say so).
      let orphans = false;
      const deadline = Date.now() + (killed ? 0 : 1000);
      while (groupAlive(child)) {
        if (Date.now() >= deadline) {
          orphans = true;
          killGroup(child, 'SIGKILL');
          break;
        }
        await sleep(20);
      }
      // Let the last stderr bytes arrive.
      await sleep(20);
      return { ...srv.exitInfo, killed, orphans, stderr: srv.stderrText() };
    })();
    return stopping.then((r) => {
      if (!allowSanitizer && SANITIZER_RE.test(r.stderr)) {
        throw new Error(`sanitizer report in the server's stderr:\n${r.stderr}`);
      }
      return r;
    });
  };
  return srv;
}

// ---------------------------------------------------------------------------
// Raw bytes

// Sends bytes (a string is taken as latin1, so '\x00'..'\xff' are bytes) to
// 127.0.0.1:port, and returns everything received until the peer closes or
// timeoutMs passes. Options:
//   timeoutMs  overall limit (default 5000)
//   quietMs    also stop once at least one whole response has arrived and
//              nothing more came for quietMs (keep-alive servers never close)
//   methods    request methods in order, for quietMs's parsing (HEAD)
//   pieces     bytes may be an array: each piece is written after delayMs
//   delayMs    (default 50)
//   end        half-close after writing (default false)
// rawExchange returns {data, closed, timedOut, error, localPort}; rawRequest
// returns just data (a Buffer).
export async function rawRequest(port, bytes, opts = {}) {
  return (await rawExchange(port, bytes, opts)).data;
}

export function rawExchange(port, bytes, opts = {}) {
  const { timeoutMs = 5000, quietMs = 0, methods, delayMs = 50, end = false } = opts;
  const pieces = (Array.isArray(bytes) ? bytes : [bytes]).map(toBuffer);
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    let quietTimer = null;
    const result = { data: Buffer.alloc(0), closed: false, timedOut: false, error: null, localPort: 0 };
    const sock = net.connect({ port, host: '127.0.0.1' });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      clearTimeout(quietTimer);
      result.data = Buffer.concat(chunks);
      sock.destroy();
      resolve(result);
    };
    const overall = setTimeout(() => {
      result.timedOut = true;
      finish();
    }, timeoutMs);
    sock.on('connect', async () => {
      result.localPort = sock.localPort;
      for (let i = 0; i < pieces.length && !done; i++) {
        if (i > 0) await sleep(delayMs);
        if (!sock.destroyed) sock.write(pieces[i]);
      }
      if (end && !sock.destroyed) sock.end();
    });
    sock.on('data', (d) => {
      chunks.push(d);
      if (quietMs > 0) {
        clearTimeout(quietTimer);
        const buf = Buffer.concat(chunks);
        if (parseResponses(buf, { methods }).responses.some((r) => r.status >= 200)) {
          quietTimer = setTimeout(finish, quietMs);
        }
      }
    });
    sock.on('end', () => {
      result.closed = true;
      finish();
    });
    sock.on('close', () => {
      result.closed = true;
      finish();
    });
    sock.on('error', (e) => {
      result.error = e;
      result.closed = true;
      finish();
    });
  });
}

function toBuffer(b) {
  return Buffer.isBuffer(b) ? b : Buffer.from(String(b), 'latin1');
}

// ---------------------------------------------------------------------------
// Responses

// Parses raw bytes as a series of HTTP/1.x responses (pipelined answers).
//   methods: the request method for each final response, in order ('HEAD'
//            responses have no body); default all GET.
// Returns {responses, rest, complete, error}:
//   responses  [{status, reason, version, headers, rawHeaders, body (Buffer),
//               text (body as utf8), chunked, interim}] in order; 1xx
//              responses are included with interim = true
//   rest       the bytes after the last whole response (a partial one)
//   complete   true when no bytes are left over
//   error      a message when the bytes are not HTTP (parsing stops there)
// headers has lower-case names; repeated fields are joined with ', '
// (set-cookie is kept as an array).
export function parseResponses(input, { methods = [] } = {}) {
  const buf = toBuffer(input);
  const responses = [];
  let pos = 0;
  let finals = 0;
  let error = null;
  while (pos < buf.length) {
    const r = parseOne(buf, pos, (methods[finals] || 'GET').toUpperCase());
    if (r.error) {
      error = r.error;
      break;
    }
    if (!r.res) break; // incomplete
    responses.push(r.res);
    if (!r.res.interim) finals++;
    pos = r.end;
  }
  return { responses, rest: buf.subarray(pos), complete: pos === buf.length, error };
}

// Parses one response at buf[pos..]. Returns {res, end}, {} when incomplete,
// or {error}.
function parseOne(buf, pos, method) {
  const headEnd = findHeadEnd(buf, pos);
  if (headEnd < 0) {
    // Not even a status line yet, or junk.
    const probe = buf.subarray(pos, Math.min(buf.length, pos + 5)).toString('latin1');
    if (!'HTTP/'.startsWith(probe) && !probe.startsWith('HTTP/')) return { error: 'not an HTTP response' };
    return {};
  }
  const head = buf.subarray(pos, headEnd.start).toString('latin1');
  const lines = head.split(/\r?\n/);
  const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) return { error: `bad status line: ${JSON.stringify(lines[0])}` };
  const status = Number(m[2]);
  const headers = {};
  const rawHeaders = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) return { error: `bad header line: ${JSON.stringify(line)}` };
    const name = line.slice(0, i);
    const value = line.slice(i + 1).trim();
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    if (key === 'set-cookie') (headers[key] ??= []).push(value);
    else headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const res = {
    version: m[1],
    status,
    reason: m[3] ?? '',
    headers,
    rawHeaders,
    body: Buffer.alloc(0),
    text: '',
    chunked: false,
    interim: status >= 100 && status < 200,
  };
  let p = headEnd.end;
  const noBody = res.interim || status === 204 || status === 304 || method === 'HEAD';
  const te = (headers['transfer-encoding'] || '').toLowerCase();
  if (noBody) {
    // nothing
  } else if (/(^|,)\s*chunked\s*$/.test(te)) {
    res.chunked = true;
    const parts = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', p, 'latin1');
      if (eol < 0) return {};
      const sizeText = buf.subarray(p, eol).toString('latin1').split(';')[0].trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) return { error: `bad chunk size ${JSON.stringify(sizeText)}` };
      const size = parseInt(sizeText, 16);
      p = eol + 2;
      if (size === 0) {
        // trailers, up to an empty line
        for (;;) {
          const e2 = buf.indexOf('\r\n', p, 'latin1');
          if (e2 < 0) return {};
          const empty = e2 === p;
          p = e2 + 2;
          if (empty) break;
        }
        break;
      }
      if (p + size + 2 > buf.length) return {};
      parts.push(buf.subarray(p, p + size));
      if (buf[p + size] !== 13 || buf[p + size + 1] !== 10) return { error: 'chunk data not followed by CRLF' };
      p += size + 2;
    }
    res.body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (!Number.isSafeInteger(n) || n < 0) return { error: `bad content-length ${headers['content-length']}` };
    if (p + n > buf.length) return {};
    res.body = buf.subarray(p, p + n);
    p += n;
  } else {
    // Delimited by the close: the rest is the body.
    res.body = buf.subarray(p);
    res.closeDelimited = true;
    p = buf.length;
  }
  res.text = res.body.toString('utf8');
  return { res, end: p };
}

// The end of a response head: CRLFCRLF (or LFLF from a sloppy server).
function findHeadEnd(buf, pos) {
  const a = buf.indexOf('\r\n\r\n', pos, 'latin1');
  const b = buf.indexOf('\n\n', pos, 'latin1');
  if (a >= 0 && (b < 0 || a < b)) return { start: a, end: a + 4 };
  if (b >= 0) return { start: b, end: b + 2 };
  return -1;
}

// rawRequest + parseResponses: {data, responses, rest, complete, error,
// response (the first final response, or null)}. Pass quietMs for servers
// that keep the connection open.
export async function rawOne(port, bytes, opts = {}) {
  const data = await rawRequest(port, bytes, opts);
  const parsed = parseResponses(data, opts);
  return { data, ...parsed, response: parsed.responses.find((r) => !r.interim) ?? null };
}
