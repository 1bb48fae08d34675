// diff.test.mjs -- the hostile-frame differential: the same raw bytes go to
// Kiln's echo routes (straight-line /api/echo and callback /api/cb) and to an
// echo server built on the `ws` npm library (which passes the Autobahn
// suite), over raw TCP; what each sends back -- echoed messages, pongs, the
// close code and reason -- and whether it then closes the connection must be
// the same. Several hundred cases, generated deterministically from a seed:
// bad opcodes, reserved bits, unmasked frames, control frames too long or
// fragmented, close frames with every kind of code and reason, broken
// fragmentation, invalid UTF-8 (whole, split across fragments), oversized
// and non-minimal lengths, and valid traffic mixed in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { installClients, openRaw, frame, closePayload } from './lib.mjs';

const skip = installClients();
const CASES = 400;
let app, appCopy, ref;

before(async () => {
  if (skip) return;
  const { WebSocketServer } = await import('./node_modules/ws/wrapper.mjs');
  appCopy = copyApp('tests/fixtures/wsapp');
  app = await startApp(appCopy.dir, { workers: 1 });
  ref = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1 << 20, perMessageDeflate: false });
  ref.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise((r) => ref.once('listening', r));
});
after(async () => {
  await app?.stop();
  appCopy?.remove();
  await new Promise((r) => (ref ? ref.close(r) : r()));
});

// mulberry32: a small deterministic PRNG.
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(n, seed) {
  const r = prng(seed);
  const int = (k) => Math.floor(r() * k);
  const pick = (a) => a[int(a.length)];
  const bytes = (k) => Buffer.from(Array.from({ length: k }, () => int(256)));
  const key = () => bytes(4);
  const utf8 = () => Buffer.from(pick(['hello', '', 'κόσμε', '😀 emoji', 'a'.repeat(int(300)), 'ünï']));
  const badUtf8 = () => pick([Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]),
    Buffer.from([0xff]), Buffer.from([0xe2, 0x82]), Buffer.concat([Buffer.from('ok'), Buffer.from([0x80])])]);
  const codes = [0, 1, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
    1015, 1016, 1100, 2000, 2999, 3000, 3999, 4000, 4999, 5000, 65535];
  const gens = [
    () => frame(int(16), utf8(), { key: key() }),                                  // any opcode
    () => frame(pick([1, 2, 9, 10]), utf8(), { rsv: 1 + int(7), key: key() }),     // reserved bits
    () => frame(pick([1, 2, 8, 9]), utf8(), { mask: false }),                      // unmasked
    () => frame(pick([8, 9, 10]), bytes(pick([125, 126, 200])), { key: key() }),   // long control
    () => frame(pick([9, 10]), utf8(), { fin: false, key: key() }),                // fragmented control
    () => frame(8, closePayload(pick(codes), pick(['', 'bye', 'κόσμε'])), { key: key() }),
    () => frame(8, Buffer.concat([closePayload(1000), badUtf8()]), { key: key() }),
    () => frame(8, bytes(1), { key: key() }),                                      // close of 1 byte
    () => frame(8, Buffer.alloc(0), { key: key() }),                               // close without code
    () => frame(0, utf8(), { key: key(), fin: r() < 0.5 }),                        // continuation first
    () => Buffer.concat([frame(1, utf8(), { fin: false, key: key() }), frame(1, utf8(), { key: key() })]),  // new msg inside
    () => Buffer.concat([frame(pick([1, 2]), utf8(), { fin: false, key: key() }), frame(9, utf8(), { key: key() }),
      frame(0, utf8(), { key: key() })]),                                          // ping between fragments
    () => frame(1, badUtf8(), { key: key() }),                                     // invalid text
    () => { const b = Buffer.from('€uro'); const k = 1 + int(2);                   // UTF-8 split across fragments
      return Buffer.concat([frame(1, b.subarray(0, k), { fin: false, key: key() }), frame(0, b.subarray(k), { key: key() })]); },
    () => Buffer.concat([frame(1, Buffer.from('ok'), { fin: false, key: key() }), frame(0, badUtf8(), { key: key() })]),
    () => frame(2, bytes(int(40)), { key: key(), len: pick([(1 << 20) + 1, 2 ** 40, 2 ** 53 + 8]) }),  // oversized length
    () => { const p = utf8(); const f = frame(1, p, { key: key() });               // non-minimal 16-bit length
      if (p.length >= 126) return f;
      const k = f.subarray(2, 6); return Buffer.concat([Buffer.from([0x81, 0xfe, 0, p.length]), k, f.subarray(6)]); },
    () => frame(pick([1, 2]), utf8(), { key: key() }),                             // valid
    () => frame(9, bytes(int(126)), { key: key() }),                               // valid ping
    () => frame(10, bytes(int(20)), { key: key() }),                               // unsolicited pong
    () => frame(2, bytes(int(2000)), { key: key() }),
  ];
  const cases = [];
  for (let i = 0; i < n; i++) {
    const parts = [];
    const k = 1 + int(4);
    for (let j = 0; j < k; j++) parts.push(pick(gens)());
    if (r() < 0.5) parts.push(frame(1, Buffer.from(`after ${i}`), { key: key() }));  // is the server still listening?
    cases.push(Buffer.concat(parts));
  }
  return cases;
}

// Send the bytes, then a ping probe; collect what comes back until the
// probe's pong, a close frame (answered like a good client), or a timeout;
// then note whether the server closed the TCP connection.
async function observe(port, path, bytes) {
  const c = await openRaw(port, path);
  if (c.status !== 101) throw new Error(`handshake: ${c.status}`);
  c.send(bytes);
  c.send(frame(9, Buffer.from('probe'), { key: Buffer.from([1, 2, 3, 4]) }));
  let end = 'timeout';
  try {
    const f = await c.waitFor((x) => x.opcode === 8 || (x.opcode === 10 && x.payload.toString() === 'probe'), 1500);
    end = f.opcode === 8 ? 'close' : 'probe';
    if (f.opcode === 8) c.send(frame(8, f.payload.length >= 2 ? f.payload.subarray(0, 2) : Buffer.alloc(0), { key: Buffer.from([5, 6, 7, 8]) }));
  } catch { /* nothing came: the server waits for more bytes, or closed silently */ }
  const closed = end === 'close' ? await c.waitEnd(2000) : c.ended;
  c.close();
  const frames = c.frames.map((f) => f.opcode === 8 ? `close ${f.code} ${f.reason}`
    : `${f.opcode}${f.rsv ? '+rsv' + f.rsv : ''} ${f.payload.length > 64 ? f.payload.length + 'B' : f.payload.toString('hex')}`);
  return { frames, end, closed };
}

async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); }
  }));
  return out;
}

for (const route of ['/api/echo', '/api/cb']) {
  test(`${CASES} hostile frame sequences: Kiln ${route} answers exactly as the ws library`, async (t) => {
    if (skip) return t.skip(skip);
    const cases = generate(CASES, route === '/api/echo' ? 1 : 2);
    const refPort = ref.address().port;
    const mismatches = [];
    const stats = { close: 0, probe: 0, timeout: 0, codes: {} };
    await pool(cases, 12, async (bytes, i) => {
      const [a, b] = await Promise.all([observe(app.port, route, bytes), observe(refPort, '/', bytes)]);
      stats[b.end]++;
      for (const f of b.frames) if (f.startsWith('close')) stats.codes[f.split(' ')[1]] = (stats.codes[f.split(' ')[1]] ?? 0) + 1;
      if (JSON.stringify(a) !== JSON.stringify(b))
        mismatches.push(`case ${i} bytes ${bytes.toString('hex').slice(0, 120)}\n  kiln ${JSON.stringify(a)}\n  ws   ${JSON.stringify(b)}`);
    });
    console.log(`${route}: ${CASES} cases; ws ended ${JSON.stringify(stats)}`);
    assert.ok(stats.close > CASES / 4 && stats.probe > CASES / 10, 'the corpus exercises both failures and valid traffic');
    assert.equal(mismatches.length, 0, `${mismatches.length} differences:\n${mismatches.slice(0, 10).join('\n')}`);
  });
}
