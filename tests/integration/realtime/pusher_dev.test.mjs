// pusher_dev.test.mjs -- `kiln dev` serves Kiln's built-in Pusher endpoints
// as `kiln start` does: pusher-js (npm) connects to /app/{key} on a dev
// server, subscribes to a public and a private channel, and receives an
// event triggered through the REST API by the `pusher` server SDK (signed
// request) and one published from C (kiln_publish in a route); the REST API
// answers the channel query; a bad signature is refused with 401. Then a
// route edit is picked up and the Pusher socket still works after the reload.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { KILN, freePort, waitForPort } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { until } from '../lib/procs.mjs';
import { installClients, pusherModules, pusherClient, subscribed } from './lib.mjs';

const APP = { appId: '91', key: 'dev-key', secret: 'dev-secret' };

test('kiln dev: pusher-js and the pusher SDK against /app/{key} and the REST API', { timeout: 120_000 }, async (t) => {
  const skip = installClients();
  if (skip) return t.skip(skip);
  const { PusherJS, Pusher } = pusherModules();
  const rt = copyApp('tests/fixtures/rtapp');
  const port = await freePort();
  const child = spawn(path.resolve(KILN), ['dev', rt.dir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    env: { ...process.env, PUSHER_APP_ID: APP.appId, PUSHER_KEY: APP.key, PUSHER_SECRET: APP.secret },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const clients = [];
  try {
    await waitForPort(port, { timeoutMs: 60_000 });
    const oracle = new Pusher({ ...APP, host: '127.0.0.1', port: String(port), useTLS: false });
    const client = () => pusherClient(PusherJS, { key: APP.key, port, signer: oracle, into: clients });

    const a = client();
    await until(() => a.connection.state === 'connected', 20_000, `pusher-js connected (dev output: ${out.slice(-500)})`);
    assert.match(a.connection.socket_id, /^\d+\.\d+$/);
    const got = [];
    const { ch: news } = await subscribed(a, 'news');
    news.bind('flash', (d) => got.push(['flash', d]));
    news.bind('from-c', (d) => got.push(['from-c', d]));
    const { ch: priv } = await subscribed(a, 'private-dev');
    priv.bind('secret', (d) => got.push(['secret', d]));

    await oracle.trigger('news', 'flash', { n: 1 });
    const r = await http(port, '/api/publish', { method: 'POST', json: { channel: 'news', event: 'from-c', data: { kiln: true } } });
    assert.equal(r.status, 200);
    await oracle.trigger('private-dev', 'secret', { s: 'x' });
    await until(() => got.length === 3, 10_000, `three events, have ${JSON.stringify(got)}`);
    assert.deepEqual(got, [['flash', { n: 1 }], ['from-c', { kiln: true }], ['secret', { s: 'x' }]]);

    // The REST API: a channel query, and a forged signature refused.
    const info = await (await oracle.get({ path: '/channels/news', params: { info: 'subscription_count' } })).json();
    assert.deepEqual(info, { occupied: true, subscription_count: 1 });
    const forged = new Pusher({ ...APP, secret: 'wrong', host: '127.0.0.1', port: String(port), useTLS: false });
    await assert.rejects(forged.trigger('news', 'flash', {}), (e) => e.status === 401);

    // An edit reloads the routes; the built-in endpoints are still there.
    const pub = path.join(rt.dir, 'pages/api/publish.c');
    fs.appendFileSync(pub, '\n/* edited */\n');
    await sleep(1500);
    const b = client();
    await until(() => b.connection.state === 'connected', 20_000, 'pusher-js connected after the reload');
    const { ch: nb } = await subscribed(b, 'news');
    const gotB = [];
    nb.bind('flash', (d) => gotB.push(d));
    await oracle.trigger('news', 'flash', { n: 2 });
    await until(() => gotB.length === 1, 10_000, 'event after the reload');
    assert.deepEqual(gotB, [{ n: 2 }]);
  } finally {
    for (const c of clients) c.disconnect();
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((res) => { if (child.exitCode !== null) res(); else { child.on('exit', res); setTimeout(res, 5000); } });
    rt.remove();
  }
});
