// client.mjs -- a load client run as its own process, so that it can run
// inside a network namespace (ip netns exec NS node client.mjs ...): the
// cluster test's steady load from the client namespace. (The per-machine
// /api/hello latency probe is probe.c: a node client's own event loop and
// garbage collector add milliseconds to every figure.)
//
//   node client.mjs HOST PORT CLIENTS PACE_MS MAX_MS RUN
//     POST /api/posts {title: RUN-i} and GET /api/posts/1 in turn
//
// Prints one JSON line per answered or failed request:
//   {"i":..,"m":"POST","s":201,"t0":..,"at":..,"ms":1.23,"title":"RUN-i"}
// (e: the error or the body's start, on a failure; s 0: no answer; t0/at: Date.now() at send and at the end) and stops on
// SIGTERM after the requests in flight end, or after MAX_MS.
// What it owns: its own sockets. What it must never do: run unbounded (the
// load is bounded in count and time) or talk to anything but HOST:PORT.

import { load } from './cluster.mjs';

const [host, port, clients, paceMs, maxMs, run = 'r'] = process.argv.slice(2);
const makeReq = (i) => (i % 2 ? { method: 'GET', path: '/api/posts/1' } : { method: 'POST', path: '/api/posts', body: { title: `${run}-${i}`, content: 'load' } });
const l = load({ host, port: Number(port) }, makeReq, {
  clients: Number(clients),
  paceMs: Number(paceMs),
  maxMs: Number(maxMs),
  max: 200_000,
  timeoutMs: 3000,
  onResult: (r) =>
    process.stdout.write(
      JSON.stringify({ i: r.i, m: r.req.method, s: r.status, t0: r.t0, at: r.at, ms: Math.round(r.ms * 1000) / 1000, title: r.req.body?.title, e: r.status >= 200 && r.status < 300 ? undefined : r.text.slice(0, 80) }) + '\n',
    ),
});
process.once('SIGTERM', async () => {
  await l.stop();
  process.exit(0);
});
await l.done;
