// lib.mjs -- helpers for the WebSocket tests (tests/integration/ws/): the
// npm clients of this folder (installed on first use), frames built by hand,
// and a raw WebSocket client over TCP that records every frame the server
// sends and whether it closed the connection.
//
// What it owns: the sockets it opens (destroyed by close() and at exit) and
// this folder's node_modules.
// What it must never do: talk to anything but 127.0.0.1.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));

// npm install in this folder once. Returns null when the clients are there,
// or why not (the test skips).
export function installClients() {
  const have = (p) => fs.existsSync(path.join(HERE, 'node_modules', p, 'package.json'));
  if (have('ws') && have('playwright-core')) return null;
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'pipe', timeout: 300_000 });
    return null;
  } catch (e) {
    return `npm install in ${HERE} failed (is the npm registry reachable?): ${String(e.stderr || e.message).slice(0, 300)}`;
  }
}

// One frame as a client sends it (masked unless mask: false).
export function frame(opcode, payload = Buffer.alloc(0), { fin = true, rsv = 0, mask = true, key, len } = {}) {
  const p = Buffer.from(payload);
  const n = len ?? p.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >> 8, n & 255);
  else {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    head.push(...b);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), p]);
  const k = key ?? crypto.randomBytes(4);
  const body = Buffer.from(p.map((c, i) => c ^ k[i & 3]));
  return Buffer.concat([Buffer.from(head), Buffer.from(k), body]);
}

export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason)]);
}

// Frames the server sent, parsed from a byte stream (server frames are
// unmasked). Returns [frames, rest].
function parseFrames(buf) {
  const out = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off], b1 = buf[off + 1];
    let n = b1 & 0x7f, at = off + 2;
    if (n === 126) { if (buf.length - off < 4) break; n = buf.readUInt16BE(off + 2); at = off + 4; }
    else if (n === 127) { if (buf.length - off < 10) break; n = Number(buf.readBigUInt64BE(off + 2)); at = off + 10; }
    if (b1 & 0x80) at += 4;
    if (buf.length < at + n) break;
    const payload = buf.subarray(at, at + n);
    const f = { fin: !!(b0 & 0x80), rsv: (b0 >> 4) & 7, opcode: b0 & 15, masked: !!(b1 & 0x80), payload: Buffer.from(payload) };
    if (f.opcode === 8) {
      f.code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      f.reason = payload.subarray(2).toString();
    }
    out.push(f);
    off = at + n;
  }
  return [out, buf.subarray(off)];
}

const sockets = new Set();
process.on('exit', () => { for (const s of sockets) s.destroy(); });

// Handshake on a raw socket. Resolves {status, headers, head, frames,
// ended (the server closed: FIN or reset), send(buf), waitFor(pred, ms),
// waitEnd(ms), close()}.
export function openRaw(port, p, { extensions, headers = {}, key, version = '13', early, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sockets.add(sock);
    const k = key ?? crypto.randomBytes(16).toString('base64');
    let req = `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${k}\r\nSec-WebSocket-Version: ${version}\r\n`;
    if (extensions) req += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
    for (const [h, v] of Object.entries(headers)) req += `${h}: ${v}\r\n`;
    // early: frames sent in the same write as the request (before the 101).
    sock.write(early ? Buffer.concat([Buffer.from(req + '\r\n'), early]) : req + '\r\n');
    let buf = Buffer.alloc(0);
    let c = null;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('handshake timed out')); }, timeoutMs);
    const waiters = [];
    const poke = () => { for (const w of [...waiters]) w(); };
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!c) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const head = buf.subarray(0, i).toString('latin1');
        buf = buf.subarray(i + 4);
        const lines = head.split('\r\n');
        const hs = {};
        for (const l of lines.slice(1)) {
          const j = l.indexOf(':');
          hs[l.slice(0, j).toLowerCase()] = l.slice(j + 1).trim();
        }
        c = {
          status: Number(lines[0].split(' ')[1]), headers: hs, head, frames: [], ended: false, body: '', sock, key: k,
          send(b) { if (!sock.destroyed) sock.write(b); },
          waitFor(pred, ms = 5000) {
            return new Promise((ok, fail) => {
              const check = () => {
                const f = c.frames.find(pred);
                if (f) { ok(f); return true; }
                if (c.ended) { fail(new Error(`connection ended; frames ${JSON.stringify(c.frames.map((x) => [x.opcode, x.code, x.payload.length]))}`)); return true; }
                return false;
              };
              if (check()) return;
              const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); fail(new Error(`frame not seen in ${ms} ms`)); }, ms);
              const w = () => { if (check()) { clearTimeout(t); waiters.splice(waiters.indexOf(w), 1); } };
              waiters.push(w);
            });
          },
          waitEnd(ms = 5000) {
            return new Promise((ok) => {
              if (c.ended) return ok(true);
              const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); ok(false); }, ms);
              const w = () => { if (c.ended) { clearTimeout(t); waiters.splice(waiters.indexOf(w), 1); ok(true); } };
              waiters.push(w);
            });
          },
          close() { sock.destroy(); sockets.delete(sock); },
        };
        clearTimeout(timer);
        if (c.status !== 101) {
          c.body = buf.toString();
          resolve(c);
          return;
        }
        resolve(c);
      }
      if (c.status === 101) {
        const [fs2, rest] = parseFrames(buf);
        buf = rest;
        c.frames.push(...fs2);
      } else {
        c.body += buf.toString();
        buf = Buffer.alloc(0);
      }
      poke();
    });
    const end = () => { if (c) { c.ended = true; poke(); } sockets.delete(sock); };
    sock.on('end', () => { end(); sock.end(); });
    sock.on('close', end);
    sock.on('error', () => { if (!c) { clearTimeout(timer); reject(new Error('connect failed')); } end(); });
  });
}
