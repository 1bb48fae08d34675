// sse_fanout.mjs -- the client of bench/sse_fanout.sh: CPU time a Kiln
// worker spends per channel event delivered to N Server-Sent Event streams.
//   node bench/sse_fanout.mjs N EVENTS ROUNDS NAME:PORT:WORKER_PID...
// Opens N raw HTTP/1.1 event streams (channel "fan") on each server, then
// in rounds alternating the servers (A B A B ...): reads the worker's
// utime+stime (/proc/PID/stat), has it publish EVENTS events in a row
// (POST /api/burst, which ends with one event from an offloaded thread),
// waits until every stream has read that last event, reads the CPU again.
// Prints per server the median CPU per event and per event per stream.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';

const [N, EVENTS, ROUNDS] = process.argv.slice(2, 5).map(Number);
const servers = process.argv.slice(5).map((s) => {
  const [name, port, pid] = s.split(':');
  return { name, port: Number(port), pid: Number(pid), cpu: [], user: [] };
});
const TICK_MS = 1000 / 100; // USER_HZ (sysconf(_SC_CLK_TCK)) is 100 on Linux
// [utime + stime, utime] of a process, in ms.
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const v = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return [(Number(v[11]) + Number(v[12])) * TICK_MS, Number(v[11]) * TICK_MS];
};

function open(port) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    c.setEncoding('latin1');
    c.tail = '';
    c.seen = 0;
    c.on('data', (d) => {
      const t = c.tail + d;
      if (!c.ready && t.includes('event: ready')) { c.ready = true; resolve(c); }
      for (let i = t.indexOf('event: thread'); i >= 0; i = t.indexOf('event: thread', i + 1)) c.seen++;
      c.tail = t.slice(-12);  // shorter than the marker: never counted twice
    });
    c.on('error', reject);
    c.write('GET /api/sse/sub?channel=fan HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  });
}

const post = (port, path) => new Promise((resolve, reject) => {
  const r = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => { res.resume(); res.on('end', resolve); });
  r.on('error', reject);
  r.end();
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const s of servers) {
  s.socks = [];
  for (let i = 0; i < N; i += 100) s.socks.push(...(await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => open(s.port)))));
}
for (let round = 0; round <= ROUNDS; round++) {  // round 0 warms up, not counted
  for (const s of servers) {
    const want = s.socks[0].seen + 1;
    const c0 = cpuMs(s.pid);
    await post(s.port, `/api/burst?channel=fan&n=${EVENTS}`);
    const deadline = Date.now() + 60_000;
    while (!s.socks.every((c) => c.seen >= want)) {
      if (Date.now() > deadline) throw new Error(`${s.name}: not every stream had the burst within 60 s`);
      await sleep(5);
    }
    await sleep(20);  // the worker's last sends are charged before we read
    const c1 = cpuMs(s.pid);
    if (round > 0) s.cpu.push(c1[0] - c0[0]), s.user.push(c1[1] - c0[1]);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`# ${N} streams, ${EVENTS + 1} events a round, ${ROUNDS} rounds alternating; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| server | CPU per round (ms, each round) | median CPU per event | per event per stream | of which user (not kernel) |');
console.log('| --- | --- | --- | --- | --- |');
for (const s of servers) {
  const m = median(s.cpu), u = median(s.user);
  console.log(`| ${s.name} | ${s.cpu.map((x) => x.toFixed(0)).join(', ')} | ${(m * 1000 / (EVENTS + 1)).toFixed(0)} µs | ${(m * 1e6 / (EVENTS + 1) / N).toFixed(0)} ns | ${(u * 1e6 / (EVENTS + 1) / N).toFixed(0)} ns |`);
}
for (const s of servers) for (const c of s.socks) c.destroy();
