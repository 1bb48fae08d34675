// ws_hold.mjs -- for redis_dns.test.mjs, run inside its network namespace:
// a straight-line WebSocket (wsapp's /api/echo) held idle, then used.
//   node ws_hold.mjs PORT HOLD_MS
// POSTs /api/publish on 127.0.0.1:PORT until it answers (the first publish
// attaches the worker to Redis: its host's lookup starts) and prints
// "attached"; opens the WebSocket and prints "open"; sends nothing for
// HOLD_MS (the worker may park the handler), then a text message, and
// prints one JSON line: {"echoed": true|false}.
import http from 'node:http';
import { openRaw, frame } from '../ws/lib.mjs';

const [port, hold] = process.argv.slice(2).map(Number);
const body = JSON.stringify({ channel: 'hold', event: 'tick', data: 1 });
const publish = () => new Promise((resolve) => {
  const r = http.request({ host: '127.0.0.1', port, path: '/api/publish', method: 'POST', agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode < 300));
  });
  r.on('error', () => resolve(false));
  r.end(body);
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < 500 && !(await publish()); i++) await sleep(20);
console.log('attached');
const c = await openRaw(port, '/api/echo');
console.log(c.status === 101 ? 'open' : `status ${c.status}`);
await sleep(hold);
c.send(frame(1, Buffer.from('still here')));
const echoed = await c.waitFor((f) => f.opcode === 1 && f.payload.toString() === 'still here', 5000).then(() => true, () => false);
console.log(JSON.stringify({ echoed }));
c.close();
process.exit(0);
