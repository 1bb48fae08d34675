// loop_probe.mjs -- for redis_dns.test.mjs, run inside its network
// namespace: POST /api/publish on 127.0.0.1:PORT one request after another
// (any 2xx) for MS milliseconds (connection errors -- the server not listening yet --
// are retried every 20 ms) and print one JSON line: [[sent_at_ms, took_ms]...].
//   node loop_probe.mjs PORT MS
import http from 'node:http';

const [port, ms] = process.argv.slice(2).map(Number);
const body = JSON.stringify({ channel: 'probe', event: 'tick', data: 1 });
const once = () => new Promise((resolve, reject) => {
  const r = http.request({ host: '127.0.0.1', port, path: '/api/publish', method: 'POST', agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
  });
  r.on('error', reject);
  r.end(body);
});
const out = [];
const end = Date.now() + ms;
while (Date.now() < end) {
  const t = Date.now();
  try {
    await once();
    out.push([t, Date.now() - t]);
  } catch {
    await new Promise((r) => setTimeout(r, 20));
  }
}
console.log(JSON.stringify(out));
