// receiver.mjs -- a local Sentry ingestion endpoint for the report tests.
//
// Listens on 127.0.0.1 (a free port) and checks every request the way a
// Sentry server would: POST to /api/<project>/envelope/, an X-Sentry-Auth
// header with sentry_version=7, the DSN's sentry_key and a sentry_client,
// and a body that @sentry/core's own parseEnvelope() parses (it enforces
// each item's declared length). Envelopes that fail any check are kept in
// `problems` (tests assert it stays empty).
//
// Modes (receiver.mode, may change while running):
//   'ok'         200 {}
//   'slow'       200 {} after delayMs
//   'hang'       read the body, never answer (the socket stays open)
//   'ratelimit'  429 with X-Sentry-Rate-Limits: `${limitSeconds}:error:key`
//   'ratelimit-retry-after'  429 with only Retry-After: limitSeconds
//
//   const rx = await startReceiver({ project: 7, key: 'pub' });
//   rx.dsn                      // http://pub@127.0.0.1:P/7
//   await rx.waitForEvent((ev) => ev.event_id === id)
//   rx.close()

import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function loadSentryCore() {
  if (!existsSync(path.join(here, 'node_modules', '@sentry', 'core', 'package.json'))) {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  }
  return import('@sentry/core');
}

// tls: {key, cert} (PEM) serves HTTPS instead (rx.dsn then says https).
export async function startReceiver({ project = 7, key = 'pubkey', mode = 'ok', limitSeconds = 60, delayMs = 300, tls = null } = {}) {
  const { parseEnvelope } = await loadSentryCore();
  const rx = {
    mode,
    limitSeconds,
    delayMs,
    envelopes: [], // {header, items: [[itemHeader, payload]], raw, receivedAt}
    problems: [],
    requests: 0,
    hanging: new Set(),
  };
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      rx.requests++;
      const raw = Buffer.concat(chunks);
      const problem = (msg) => rx.problems.push(`${msg} (${req.method} ${req.url})`);
      if (req.method !== 'POST') problem('not a POST');
      if (req.url !== `/api/${project}/envelope/`) problem(`wrong path ${req.url}`);
      const auth = req.headers['x-sentry-auth'] || '';
      if (!/^Sentry /.test(auth)) problem(`X-Sentry-Auth missing: ${auth}`);
      const fields = Object.fromEntries(
        auth.replace(/^Sentry /, '').split(/,\s*/).map((kv) => kv.split('=')),
      );
      if (fields.sentry_version !== '7') problem(`sentry_version ${fields.sentry_version}`);
      if (fields.sentry_key !== key) problem(`sentry_key ${fields.sentry_key}`);
      if (!/^kiln\/\d/.test(fields.sentry_client || '')) problem(`sentry_client ${fields.sentry_client}`);
      if (!/application\/x-sentry-envelope/.test(req.headers['content-type'] || '')) problem('content-type');
      try {
        const [header, items] = parseEnvelope(new Uint8Array(raw));
        // An item with a length comes back as its bytes: exactly one JSON
        // document must fill them (a wrong length breaks this).
        for (const item of items) {
          if (item[1] instanceof Uint8Array) item[1] = JSON.parse(Buffer.from(item[1]).toString('utf8'));
          if (!['event', 'client_report'].includes(item[0].type)) problem(`unexpected item type ${item[0].type}`);
        }
        if (items.length === 0) problem('an envelope without items');
        rx.envelopes.push({ header, items, raw: raw.toString('utf8'), receivedAt: Date.now() });
      } catch (e) {
        problem(`parseEnvelope failed: ${e.message}: ${raw.toString('utf8').slice(0, 400)}`);
      }
      if (rx.mode === 'slow') {
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{}');
        }, rx.delayMs);
        return;
      }
      if (rx.mode === 'hang') {
        rx.hanging.add(res);
        return;
      }
      if (rx.mode === 'ratelimit') {
        res.writeHead(429, { 'X-Sentry-Rate-Limits': `${rx.limitSeconds}:error:key`, 'Content-Type': 'application/json' });
        res.end('{}');
        return;
      }
      if (rx.mode === 'ratelimit-retry-after') {
        res.writeHead(429, { 'Retry-After': String(rx.limitSeconds) });
        res.end('{}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  };
  rx.tlsErrors = 0;
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.on('tlsClientError', () => rx.tlsErrors++);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  rx.port = server.address().port;
  rx.dsn = `${tls ? 'https' : 'http'}://${key}@127.0.0.1:${rx.port}/${project}`;
  rx.events = () =>
    rx.envelopes.flatMap((e) => e.items.filter(([h]) => h.type === 'event').map(([, p]) => p));
  rx.clientReports = () =>
    rx.envelopes.flatMap((e) => e.items.filter(([h]) => h.type === 'client_report').map(([, p]) => p));
  rx.waitForEvent = async (pred, timeoutMs = 8000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = rx.events().find(pred);
      if (ev) return ev;
      if (Date.now() > deadline) {
        throw new Error(`no matching event within ${timeoutMs} ms; got ${rx.events().map((e) => e.event_id).join(', ')}`);
      }
      await sleep(25);
    }
  };
  rx.close = () =>
    new Promise((resolve) => {
      for (const res of rx.hanging) res.destroy();
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  return rx;
}
