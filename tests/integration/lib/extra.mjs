// extra.mjs -- helpers the core tests (tests/integration/core/) add on top of
// server.mjs: building the fixture app once (safely, when several test files
// build it at the same time), a node:http client that reports timings, a
// Server-Sent Events reader, curl through child_process, and small
// statistics.
//
// What it owns: the fixture's private copy, $KILN_BUILD/test-fixtures/app
// (its sources are tests/fixtures/app), and a lock directory in it while a
// build runs.
// What it must never do: talk to anything but 127.0.0.1, or leave a child
// process running.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO, KILN_BUILD, buildApp, startServer } from './server.mjs';

// The fixture's sources, and the private copy the tests build and run: one
// per kiln build folder (build/, build/asan/ ...), so a sanitizer run and a
// plain run, or another engineer's run of tests/fixtures/app, never share
// object files. Timestamps are preserved, so rebuilds stay incremental.
export const FIXTURE_SRC = path.join(REPO, 'tests/fixtures/app');
export const FIXTURE = path.resolve(REPO, KILN_BUILD, 'test-fixtures', 'app');
const LOCK = path.join(FIXTURE, '.kiln', 'test-build.lock');

function syncFixture() {
  for (const sub of ['pages', 'lib']) {
    fs.rmSync(path.join(FIXTURE, sub), { recursive: true, force: true });
    fs.cpSync(path.join(FIXTURE_SRC, sub), path.join(FIXTURE, sub), { recursive: true, preserveTimestamps: true });
  }
}

// `kiln build` of the fixture copy, once per test process. Test files run in
// parallel processes: a mkdir lock keeps two builds from writing the same
// objects at once (the second one then finds everything fresh).
let built = null;
export async function buildFixture() {
  if (built) return built;
  const deadline = Date.now() + 240_000;
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // A lock older than 3 minutes was left by a killed run.
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > 180_000) fs.rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* raced with its owner */
      }
      if (Date.now() > deadline) throw new Error(`could not take ${LOCK}`);
      await sleep(100);
    }
  }
  try {
    syncFixture();
    built = buildApp(FIXTURE);
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
  return built;
}

// buildFixture + startServer(FIXTURE, opts).
export async function startFixture(opts = {}) {
  await buildFixture();
  return startServer(FIXTURE, opts);
}

// ---------------------------------------------------------------------------
// node:http client

// One request with node:http (no keep-alive unless an agent is given).
// Returns {status, headers, rawHeaders, body (Buffer), text, json (parsed
// when the content type says JSON; undefined when that fails), ms,
// localPort}. opts: method, headers, body (string/Buffer), json (sent as a
// JSON body), agent, timeoutMs (default 10 s; the promise rejects on
// timeout). lib/db.mjs's http() is this function.
export function request(port, p, opts = {}) {
  const { method = 'GET', agent, timeoutMs = 10_000 } = opts;
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      { host: '127.0.0.1', port, path: p, method, headers, agent: agent ?? false },
      (res) => {
        const localPort = res.socket?.localPort;
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          const text = buf.toString('utf8');
          let json;
          if (/json/.test(res.headers['content-type'] || '')) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, body: buf, text, json, ms, localPort });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${p}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------------------
// Raw sockets with timings

// Opens a socket and returns a small handle: write(bytes), received bytes so
// far, when each chunk arrived, and promises for close.
export function openSocket(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const h = {
      sock,
      chunks: [], // {t (ms since open), data}
      t0: Date.now(),
      closedAt: null,
      error: null,
      data: () => Buffer.concat(h.chunks.map((c) => c.data)),
      text: () => h.data().toString('latin1'),
      write: (b) => sock.write(Buffer.isBuffer(b) ? b : Buffer.from(String(b), 'latin1')),
      closed: null,
      // Resolves when pred(text so far) is true; rejects after ms.
      waitFor(pred, ms = 5000) {
        return new Promise((res, rej) => {
          const check = () => {
            if (pred(h.text())) {
              clearInterval(iv);
              clearTimeout(to);
              res(h.text());
            } else if (h.closedAt !== null) {
              clearInterval(iv);
              clearTimeout(to);
              rej(new Error(`socket closed before the expected data; got ${JSON.stringify(h.text())}`));
            }
          };
          const iv = setInterval(check, 5);
          const to = setTimeout(() => {
            clearInterval(iv);
            rej(new Error(`no expected data within ${ms} ms; got ${JSON.stringify(h.text())}`));
          }, ms);
          check();
        });
      },
      destroy: () => sock.destroy(),
    };
    h.closed = new Promise((res) => {
      sock.on('close', () => {
        h.closedAt ??= Date.now() - h.t0;
        res(h.closedAt);
      });
    });
    sock.on('data', (d) => h.chunks.push({ t: Date.now() - h.t0, data: d }));
    sock.on('end', () => {
      h.closedAt ??= Date.now() - h.t0;
    });
    sock.on('error', (e) => {
      h.error = e;
    });
    sock.once('connect', () => resolve(h));
    sock.once('error', reject);
  });
}

// ---------------------------------------------------------------------------
// Server-Sent Events

// Parses a text/event-stream body the way EventSource does (WHATWG HTML
// 9.2.6): lines end in CRLF, LF or CR; ':' starts a comment; "field: value"
// (one leading space dropped); data lines are joined with '\n'; a blank line
// dispatches the event (none when data is empty).
export class SSEParser {
  constructor() {
    this.events = [];
    this.buffer = '';
    this.data = [];
    this.type = '';
    this.lastId = '';
  }

  push(text) {
    this.buffer += text;
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buffer);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length) {
        this.events.push({ type: this.type || 'message', data: this.data.join('\n'), lastEventId: this.lastId });
      }
      this.data = [];
      this.type = '';
      return;
    }
    if (line.startsWith(':')) return;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
  }
}

// GETs an event stream with node:http and parses it as it arrives. Returns
// {status, headers, events: [{type, data, lastEventId, t (ms since the
// request)}]} when the server ends the stream.
export function readEventStream(port, p, { timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const req = http.get(
      { host: '127.0.0.1', port, path: p, headers: { Accept: 'text/event-stream' }, agent: false },
      (res) => {
        const parser = new SSEParser();
        res.setEncoding('utf8');
        res.on('data', (d) => {
          const before = parser.events.length;
          parser.push(d);
          for (let i = before; i < parser.events.length; i++) parser.events[i].t = Date.now() - t0;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, events: parser.events }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('event stream timed out')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// curl

// Runs the real curl binary. Returns {code, stdout, stderr}. Never throws
// for a non-zero exit (the test asserts on it).
export function curl(args, { timeoutMs = 15_000, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      'curl',
      ['--silent', '--show-error', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs + 2000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) {
      child.stdin.end(input);
    }
  });
}

// Splits `curl -i` output (possibly several responses, e.g. a 100 Continue
// first) into {status, headers, body} of the final response.
export function parseCurlInclude(out) {
  let rest = out;
  let last = null;
  while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (const l of head.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    rest = rest.slice(end + 4);
    last = { status, headers, body: rest };
  }
  return last;
}

// ---------------------------------------------------------------------------
// Background load from another process

// The load client's code: `concurrency` loops GET `path` over a keep-alive
// agent until stdin closes, then print a summary as JSON. It runs in its own
// process so that its responses do not queue up in the event loop of the
// test that is timing something else.
const LOAD_CLIENT = `
import http from 'node:http';
const [port, path, n] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(n) });
let running = true, ready = 0;
const sum = { count: 0, statuses: {}, minMs: Infinity, maxMs: 0, bodies: {}, errors: [] };
process.stdin.on('end', () => { running = false; });
process.stdin.resume();
const one = () => new Promise((resolve) => {
  const t0 = process.hrtime.bigint();
  http.get({ host: '127.0.0.1', port: Number(port), path, agent }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { body += d; });
    res.on('end', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      sum.count++;
      sum.statuses[res.statusCode] = (sum.statuses[res.statusCode] || 0) + 1;
      sum.bodies[body] = (sum.bodies[body] || 0) + 1;
      sum.minMs = Math.min(sum.minMs, ms);
      sum.maxMs = Math.max(sum.maxMs, ms);
      resolve();
    });
  }).on('error', (e) => { sum.errors.push(e.message); resolve(); });
});
await Promise.all(Array.from({ length: Number(n) }, async () => {
  await one();
  if (++ready === Number(n)) process.stdout.write('ready\\n');
  while (running) await one();
}));
process.stdout.write(JSON.stringify(sum) + '\\n');
`;

// Starts the load client. Resolves once every loop has had one answer;
// returns {stop()} where stop() resolves with the client's summary
// {count, statuses, minMs, maxMs, bodies, errors}.
export function startLoad(port, p, concurrency) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', LOAD_CLIENT, String(port), p, String(concurrency)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      if (out.includes('ready\n')) {
        child.stdout.off('data', onData);
        out = out.slice(out.indexOf('ready\n') + 6);
        child.stdout.on('data', (more) => {
          out += more;
        });
        resolve({
          stop: async () => {
            child.stdin.end();
            await exited;
            return JSON.parse(out.trim());
          },
        });
      }
    };
    child.stdout.on('data', onData);
    exited.then((code) => reject(new Error(`load client exited (${code}) before it was ready`)));
  });
}

// ---------------------------------------------------------------------------
// Statistics and checks

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1);
  return s[Math.max(0, i)];
}

export const FNV_SEED = 2166136261;
export function fnv1a(buf, h = FNV_SEED) {
  for (const b of buf) {
    h ^= b;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

// The server's JSON log lines for one request id.
export function logsFor(srv, requestId) {
  return srv.logs().filter((l) => l.requestId === requestId);
}

// True when a sanitizer build is in use (apps get the sanitizer flags).
export function sanitizerBuild() {
  try {
    const flags = fs.readFileSync(path.join(KILN_BUILD, 'kiln.sanflags'), 'utf8');
    return /-fsanitize=/.test(flags);
  } catch {
    return false;
  }
}

// The p99 bound of the "stays fast while ..." tests: the product's 10 ms on
// normal builds. A sanitizer build (ASan quarantine, shadow memory) read
// 30-40 ms while another suite shared the two cores, so it gets a looser
// bound that still catches a worker that blocks (a stall reads >= 200 ms).
export const P99_LIMIT_MS = sanitizerBuild() ? 60 : 10;

// A sanitizer report in the text other than the one a deliberate crash
// causes (a SEGV report from the crash route): [] when clean.
export function unexpectedSanitizerReports(stderr) {
  const lines = stderr.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/.test(l)) {
      if (/AddressSanitizer: SEGV|SUMMARY: AddressSanitizer: SEGV/.test(l)) continue;
      out.push(l);
    }
  }
  return out;
}

export { sleep };
