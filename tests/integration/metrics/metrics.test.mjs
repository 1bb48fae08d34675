// metrics.test.mjs -- /_kiln/metrics: off unless KILN_METRICS=1; one view
// across every worker; text that `promtool check metrics` accepts; a real
// Prometheus (Debian's, started here on a free loopback port, with the
// scrape config from docs/prometheus/) scrapes Kiln and a PromQL query over
// its HTTP API returns the number of requests sent; the docs' alert rules
// pass `promtool check rules`.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, startServer, freePort, REPO } from '../lib/server.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

const APP = 'tests/fixtures/reportapp';
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

before(() => buildApp(APP));

function parse(text) {
  const m = new Map();
  for (const l of text.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const i = l.lastIndexOf(' ');
    m.set(l.slice(0, i), Number(l.slice(i + 1)));
  }
  return m;
}

test('metrics are off by default', async () => {
  const srv = await startServer(APP, { workers: 1 });
  try {
    assert.equal((await srv.fetch('/_kiln/metrics')).status, 404);
  } finally {
    await srv.stop();
  }
});

test('one view across workers, promtool-valid, counts by route/method/status class, histograms, restarts', async (t) => {
  const srv = await startServer(APP, { workers: 2, env: { KILN_METRICS: '1' } });
  try {
    // Separate connections, so both workers serve some.
    for (let i = 0; i < 30; i++) await srv.fetch('/api/hello', { headers: { Connection: 'close' } });
    for (let i = 0; i < 4; i++) await srv.fetch('/api/missing', { method: 'POST', headers: { Connection: 'close' } });
    await srv.fetch('/api/crash');
    await srv.waitForLog((l) => l.msg === 'worker restarted');
    // The replacement counts itself up when it starts, a moment later.
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      const m = parse(await (await srv.fetch('/_kiln/metrics', { headers: { Connection: 'close' } })).text());
      if (m.get('kiln_workers_up') === 2) break;
      await sleep(50);
    }
    // After the restart: a pool's gauges belong to its worker, and the crash
    // may have taken the one worker that had queried.
    for (let i = 0; i < 3; i++) await srv.fetch('/api/dberror', { headers: { Connection: 'close' } });
    // Every scrape, whichever worker answers, sees the same counts.
    for (let i = 0; i < 6; i++) {
      const r = await srv.fetch('/_kiln/metrics', { headers: { Connection: 'close' } });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      const m = parse(await r.text());
      assert.equal(m.get('kiln_http_requests_total{route="/api/hello",method="GET",status="2xx"}'), 30);
      assert.equal(m.get('kiln_http_requests_total{route="/api/missing",method="POST",status="4xx"}'), 4);
      assert.equal(m.get('kiln_http_request_duration_seconds_count{route="/api/hello"}'), 30);
      assert.equal(m.get('kiln_http_request_duration_seconds_bucket{route="/api/hello",le="+Inf"}'), 30);
      assert.equal(m.get('kiln_worker_crashes_total'), 1);
      assert.equal(m.get('kiln_worker_restarts_total'), 1);
      assert.equal(m.get('kiln_workers_up'), 2);
      assert.equal(m.get('kiln_http_requests_in_flight'), 1);   // this scrape
      assert.ok(m.has('kiln_websocket_connections_open'));
      assert.ok(m.has('kiln_db_pool_waits_total'));
      assert.equal(m.get('kiln_db_errors_total'), 3);
      assert.equal(m.get('kiln_http_requests_total{route="/api/dberror",method="GET",status="5xx"}'), 3);
      const open = m.get('kiln_db_pool_connections{state="open"}');
      assert.ok(open >= 1 && open <= 2, `open connections ${open}`);   // one per worker that queried (SQLite)
      assert.equal(m.get('kiln_db_pool_connections{state="in_use"}'), 0);
      assert.ok(m.has('kiln_reporter_queue_depth'));
    }
    if (!have('promtool')) return t.skip('promtool is not installed (Debian package prometheus; scripts/deps.sh test)');
    const text = await (await srv.fetch('/_kiln/metrics')).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  } finally {
    await srv.stop();
  }
});

test('KILN_METRICS_TOKEN: a scrape without the bearer token gets 401', async () => {
  const srv = await startServer(APP, { workers: 1, env: { KILN_METRICS: '1', KILN_METRICS_TOKEN: 's3cret-scrape' } });
  try {
    const none = await srv.fetch('/_kiln/metrics');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await srv.fetch('/_kiln/metrics', { headers: { Authorization: 'Bearer wrong-token!' } })).status, 401);
    const ok = await srv.fetch('/_kiln/metrics', { headers: { Authorization: 'Bearer s3cret-scrape' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /kiln_http_requests_total/);
  } finally {
    await srv.stop();
  }
});

test('the docs\' alert rules pass promtool check rules', (t) => {
  if (!have('promtool')) return t.skip('promtool is not installed (Debian package prometheus)');
  const r = spawnSync('promtool', ['check', 'rules', path.join(REPO, 'docs/prometheus/kiln-alerts.yml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 4 rules found/);
});

test('a real Prometheus scrapes Kiln; PromQL returns the request count', async (t) => {
  if (!have('prometheus')) return t.skip('prometheus is not installed (Debian package prometheus; scripts/deps.sh test)');
  const srv = await startServer(APP, { workers: 2, env: { KILN_METRICS: '1' } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-prom-'));
  let prom;
  try {
    const N = 23;
    for (let i = 0; i < N; i++) await srv.fetch('/api/hello', { headers: { Connection: 'close' } });
    // The documented scrape config, pointed at this server, scraping fast.
    const cfg = fs.readFileSync(path.join(REPO, 'docs/prometheus/prometheus.yml'), 'utf8')
      .replace('localhost:3000', `127.0.0.1:${srv.port}`)
      .replace('scrape_interval: 15s', 'scrape_interval: 1s');
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), cfg);
    fs.copyFileSync(path.join(REPO, 'docs/prometheus/kiln-alerts.yml'), path.join(dir, 'kiln-alerts.yml'));
    const port = await freePort();
    prom = spawn('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const killProm = () => prom.exitCode === null && prom.kill('SIGKILL');
    process.once('exit', killProm);   // never left running, whatever happens
    let promErr = '';
    prom.stderr.on('data', (d) => { promErr += d; });
    const q = encodeURIComponent('sum(kiln_http_requests_total{route="/api/hello",status="2xx"})');
    const deadline = Date.now() + 30_000;
    let value = null;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${q}`);
        const j = await r.json();
        if (j.status === 'success' && j.data.result.length) {
          value = Number(j.data.result[0].value[1]);
          if (value === N) break;
        }
      } catch { /* not up yet */ }
      await sleep(250);
    }
    assert.equal(value, N, `Prometheus saw ${value}; its stderr:\n${promErr}`);
    // The target is healthy in Prometheus' eyes.
    const targets = await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).json();
    assert.equal(targets.data.activeTargets[0].health, 'up', JSON.stringify(targets.data.activeTargets[0]));
  } finally {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([new Promise((r) => prom.once('exit', r)), sleep(5000)]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
    await srv.stop();
  }
});
