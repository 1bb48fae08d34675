// fanout_ws.mjs -- the `ws` (npm) side of bench/fanout.sh: a WebSocket
// server whose every HTTP request (the trigger) sends one event to all its
// clients, the way ws's README broadcasts: one JSON text made once, then
// client.send() for each. permessage-deflate off (ws's default for servers).
//   node bench/fanout_ws.mjs PORT
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { WebSocketServer } = await import(path.join(REPO, 'tests/integration/ws/node_modules/ws/wrapper.mjs'));
const msg = JSON.stringify({ event: 'fan.event', data: { n: 1 } });
const srv = http.createServer((req, res) => {
  for (const c of wss.clients) c.send(msg);
  res.statusCode = 204;
  res.end();
});
const wss = new WebSocketServer({ server: srv, perMessageDeflate: false });
srv.listen(Number(process.argv[2]), '127.0.0.1');
