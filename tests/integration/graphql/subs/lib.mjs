// lib.mjs -- helpers of the GraphQL subscription tests (this folder): the
// npm clients (graphql-ws, ws, graphql; installed on first use), an app
// copied and started, raw protocol sockets, and the machine's count of a
// channel's subscriptions read through the Pusher REST API.
//
// What it owns: this folder's node_modules, the app copies it makes (removed
// by stop()). What it must never do: talk to anything but 127.0.0.1.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildApp, startServer } from '../../lib/server.mjs';
import { http } from '../../lib/db.mjs';
import { within } from '../../lib/procs.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PUSHER = { PUSHER_APP_ID: '1', PUSHER_KEY: 'k', PUSHER_SECRET: 's' };

// null when the clients are there, or why they could not be installed (skip).
export function install() {
  if (['graphql-ws', 'ws', 'graphql'].every((m) => fs.existsSync(path.join(HERE, 'node_modules', m, 'package.json')))) return null;
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'pipe', timeout: 300_000 });
    return null;
  } catch (e) {
    return `npm install in ${HERE} failed (is the npm registry reachable?): ${String(e.stderr || e.message).slice(0, 300)}`;
  }
}

export async function clients() {
  const WebSocket = createRequire(path.join(HERE, 'package.json'))('ws');
  const { createClient } = await import(path.join(HERE, 'node_modules/graphql-ws/dist/client.js'));
  return { WebSocket, createClient };
}

// This folder's app/ copied, built and started. Returns {srv, stop()}.
// `app`: another app folder of this one (memory_db.test.mjs's mem_app).
export async function startTestApp({ workers = 1, env = {}, app = 'app' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-subs-'));
  fs.cpSync(path.join(HERE, app), dir, { recursive: true });
  try {
    buildApp(dir);
    const srv = await startServer(dir, { workers, env: { ...PUSHER, ...env } });
    return { srv, dir, async stop() { await srv.stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export const until = async (pred, ms = 10_000, what = 'a condition') =>
  assert.ok(await within(ms, pred), `timed out waiting for ${what}`);

// Subscriptions to `channel` on the machine (PUSHER set on the server): a
// signed GET /apps/{id}/channels/{channel}, as the pusher SDK signs it.
export async function subscribers(port, channel) {
  const p = `/apps/${PUSHER.PUSHER_APP_ID}/channels/${channel}`;
  const params = { auth_key: PUSHER.PUSHER_KEY, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0', info: 'subscription_count' };
  const qs = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const sig = crypto.createHmac('sha256', PUSHER.PUSHER_SECRET).update(`GET\n${p}\n${qs}`).digest('hex');
  const r = await http(port, `${p}?${qs}&auth_signature=${sig}`);
  assert.equal(r.status, 200, r.text);
  return r.json.subscription_count;
}

// A raw socket speaking graphql-transport-ws: messages in .got, the close
// in .closed ({code, reason}).
export function raw(WebSocket, url, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { headers });
    ws.got = [];
    ws.closed = null;
    ws.on('message', (m) => ws.got.push(JSON.parse(m.toString())));
    ws.on('close', (code, reason) => { ws.closed = { code, reason: reason.toString() }; });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}
export const sendJson = (ws, m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
export async function closedWith(ws, code, reason) {
  await until(() => ws.closed, 10_000, `close ${code}`);
  assert.equal(ws.closed.code, code, `close code (reason ${ws.closed.reason})`);
  if (reason !== undefined) assert.equal(ws.closed.reason, reason);
}
// A raw socket after connection_init and its ack.
export async function acked(WebSocket, url) {
  const ws = await raw(WebSocket, url);
  sendJson(ws, { type: 'connection_init' });
  await until(() => ws.got.some((m) => m.type === 'connection_ack'), 10_000, 'connection_ack');
  return ws;
}
