// lib.mjs -- helpers for the real-time tests (tests/integration/realtime/):
// live event streams read as EventSource reads them, the npm clients of
// this folder (installed on first use) and a pusher-js client set up the one
// way the Pusher tests use, worker memory.
//
// What it owns: the streams it opens (closed by close() and at exit) and
// this folder's node_modules (installed with npm when missing).
// What it must never do: talk to anything but 127.0.0.1.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SSEParser } from '../lib/extra.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));

// npm install in this folder once (the registry must be reachable then).
// Returns null when it worked, or why it could not (the test skips).
export function installClients() {
  if (fs.existsSync(path.join(HERE, 'node_modules', 'pusher-js', 'package.json')) &&
      fs.existsSync(path.join(HERE, 'node_modules', 'playwright-core', 'package.json')) &&
      fs.existsSync(path.join(HERE, 'node_modules', 'pusher', 'package.json')) &&
      fs.existsSync(path.join(HERE, 'node_modules', 'ws', 'package.json'))) return null;
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'pipe', timeout: 300_000 });
    return null;
  } catch (e) {
    return `npm install in ${HERE} failed (is the npm registry reachable?): ${String(e.stderr || e.message).slice(0, 300)}`;
  }
}

// The npm modules of this folder (after installClients()): pusher-js, the
// pusher server SDK and ws.
export function pusherModules() {
  const req = createRequire(path.join(HERE, 'package.json'));
  return { PusherJS: req('pusher-js'), Pusher: req('pusher'), WebSocket: req('ws') };
}

// A pusher-js client of app `key` on 127.0.0.1:port, WebSocket transport
// only. Private and presence channels are authorized by `signer` (a pusher
// SDK instance: its authorizeChannel, with `member` as the presence
// identity), or by `authorize` (pusher-js channelAuthorization options, e.g.
// an endpoint). Connection errors collect in c.errors; the client is added
// to `into` (the test disconnects those).
export function pusherClient(PusherJS, { key, port, signer, member, authorize, into }) {
  const c = new PusherJS(key, {
    cluster: 'kiln', wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
    channelAuthorization: authorize ?? {
      customHandler: ({ socketId, channelName }, cb) =>
        cb(null, signer.authorizeChannel(socketId, channelName, channelName.startsWith('presence-') ? member : undefined)),
    },
  });
  c.errors = [];
  c.connection.bind('error', (e) => c.errors.push(e));
  into?.push(c);
  return c;
}

// Subscribes pusher-js client c to `name`: resolves {ch, data} at
// pusher:subscription_succeeded (data: the member list on presence
// channels), rejects at pusher:subscription_error.
export function subscribed(c, name) {
  const ch = c.subscribe(name);
  return new Promise((ok, fail) => {
    ch.bind('pusher:subscription_succeeded', (d) => ok({ ch, data: d }));
    ch.bind('pusher:subscription_error', (e) => fail(new Error(`subscription_error ${JSON.stringify(e)}`)));
  });
}

const open = new Set();
process.on('exit', () => { for (const s of open) s.destroy(); });

// A live event stream. Returns {status, headers, events, raw, waitFor(pred,
// ms), waitCount(n, ms), closed, close()}; events grow as they arrive.
export function openStream(port, p, { headers = {}, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: p, headers: { Accept: 'text/event-stream', ...headers }, agent: false },
      (res) => {
        const parser = new SSEParser();
        const s = {
          status: res.statusCode,
          headers: res.headers,
          events: parser.events,
          raw: '',
          closed: false,
          waiters: [],
          close() { req.destroy(); open.delete(req); },
          waitFor(pred, ms = 10_000) {
            return new Promise((ok, fail) => {
              const check = () => {
                const e = parser.events.find(pred);
                if (e) { ok(e); return true; }
                return false;
              };
              if (check()) return;
              const t = setTimeout(() => fail(new Error(`event not seen in ${ms} ms; have ${JSON.stringify(parser.events).slice(0, 2000)}`)), ms);
              s.waiters.push(() => { if (check()) { clearTimeout(t); return true; } return false; });
            });
          },
          waitCount(n, ms = 10_000) {
            return s.waitFor(() => parser.events.length >= n, ms).then(() => parser.events);
          },
        };
        res.setEncoding('utf8');
        res.on('data', (d) => {
          s.raw += d;
          parser.push(d);
          s.waiters = s.waiters.filter((w) => !w());
        });
        res.on('end', () => { s.closed = true; open.delete(req); });
        res.on('error', () => { s.closed = true; });
        resolve(s);
      },
    );
    open.add(req);
    req.setTimeout(timeoutMs, () => {});
    req.on('error', reject);
  });
}

// Resident memory of a process, in KiB.
export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
