// pusher_limits.test.mjs -- end-to-end encrypted channels and the client
// event rate limit of Kiln's Pusher endpoint, with real clients:
//   - private-encrypted-: pusher-js subscribes with the shared secret the
//     pusher SDK's authorizeChannel gives (encryptionMasterKeyBase64), the SDK
//     triggers (it encrypts), pusher-js decrypts the plaintext; a raw `ws`
//     subscriber on the same channel sees only {nonce, ciphertext}; a bad
//     signature is refused (4009) as on private channels; a client event on
//     the channel is refused with 4301 and reaches nobody;
//   - Pusher's limit of 10 client events per second per connection: of 25
//     sent at once, exactly 10 reach the other member, the sender gets 4301
//     for the other 15, and a second later it may send again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { sleep } from '../lib/extra.mjs';
import { until } from '../lib/procs.mjs';
import { installClients, pusherModules, pusherClient, subscribed } from './lib.mjs';

const APP = { appId: '55', key: 'lim-key', secret: 'lim-secret' };
const MASTER = crypto.randomBytes(32).toString('base64');
const rt = copyApp('tests/fixtures/rtapp');
let srv, PusherJS, Pusher, WebSocket, skip, oracle;
const clients = [], raws = [];

before(async () => {
  skip = installClients();
  if (skip) return;
  ({ PusherJS, Pusher, WebSocket } = pusherModules());
  buildApp(rt.dir);
  srv = await startServer(rt.dir, { workers: 1, env: { PUSHER_APP_ID: APP.appId, PUSHER_KEY: APP.key, PUSHER_SECRET: APP.secret } });
  oracle = new Pusher({ ...APP, host: '127.0.0.1', port: String(srv.port), useTLS: false, encryptionMasterKeyBase64: MASTER });
});
after(async () => {
  for (const c of clients) c.disconnect();
  for (const w of raws) w.close();
  await sleep(100);
  await srv?.stop();
  rt.remove();
});

const client = () => pusherClient(PusherJS, { key: APP.key, port: srv.port, signer: oracle, into: clients });

// A raw protocol client (npm ws): every message it gets, parsed.
async function raw() {
  const w = new WebSocket(`ws://127.0.0.1:${srv.port}/app/${APP.key}?protocol=7&client=js&version=8.4.0`);
  raws.push(w);
  w.got = [];
  w.on('message', (d) => w.got.push(JSON.parse(d.toString())));
  await until(() => w.got.some((m) => m.event === 'pusher:connection_established'), 10_000, 'connection_established');
  w.socketId = JSON.parse(w.got.find((m) => m.event === 'pusher:connection_established').data).socket_id;
  return w;
}

test('private-encrypted-: SDK encrypts, pusher-js decrypts, the wire and Kiln see only ciphertext', async (t) => {
  if (skip) return t.skip(skip);
  const chan = 'private-encrypted-vault';
  const a = client();
  const { ch } = await subscribed(a, chan);
  const got = [];
  ch.bind('secret', (d) => got.push(d));

  const w = await raw();
  const { auth } = oracle.authorizeChannel(w.socketId, chan);
  w.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: chan, auth } }));
  await until(() => w.got.some((m) => m.event === 'pusher_internal:subscription_succeeded'), 10_000, 'raw subscribed');

  await oracle.trigger(chan, 'secret', { code: 'open sesame' });
  await until(() => got.length === 1, 10_000, 'decrypted event');
  assert.deepEqual(got, [{ code: 'open sesame' }]);
  await until(() => w.got.some((m) => m.event === 'secret'), 10_000, 'raw event');
  const wire = w.got.find((m) => m.event === 'secret');
  assert.ok(!wire.data.includes('open sesame'), `plaintext on the wire: ${wire.data}`);
  const box = JSON.parse(wire.data);
  assert.ok(box.nonce && box.ciphertext, `an encrypted payload: ${wire.data}`);

  // A forged signature is refused as on any private channel.
  const bad = await raw();
  const forged = new Pusher({ ...APP, secret: 'wrong', encryptionMasterKeyBase64: MASTER }).authorizeChannel(bad.socketId, chan);
  bad.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: chan, auth: forged.auth } }));
  await until(() => bad.got.some((m) => m.event === 'pusher:error'), 10_000, '4009');
  assert.equal(bad.got.find((m) => m.event === 'pusher:error').data.code, 4009);

  // A client event on an encrypted channel: refused, relayed to nobody.
  w.send(JSON.stringify({ event: 'client-peek', channel: chan, data: { x: 1 } }));
  await until(() => w.got.some((m) => m.event === 'pusher:error'), 10_000, '4301');
  const err = w.got.find((m) => m.event === 'pusher:error');
  assert.equal(err.data.code, 4301);
  assert.match(err.data.message, /encrypted/);
  await sleep(300);
  assert.ok(!got.some((d) => d?.x === 1));
  a.unsubscribe(chan);
});

test('client events: 10 per second per connection, the rest refused with 4301', async (t) => {
  if (skip) return t.skip(skip);
  const chan = 'private-chatty';
  const sender = client(), other = client();
  const { ch: cs } = await subscribed(sender, chan);
  const { ch: co } = await subscribed(other, chan);
  const got = [];
  co.bind('client-n', (d) => got.push(d.i));
  for (let i = 0; i < 25; i++) assert.equal(cs.trigger('client-n', { i }), true);
  await until(() => sender.errors.filter((e) => e.data?.code === 4301).length === 15, 10_000,
    `15 refusals, have ${sender.errors.length}`);
  await sleep(300);
  assert.deepEqual(got, [...Array(10).keys()], 'the first 10 pass, in order');
  assert.match(sender.errors[0].data.message, /10 client events/);
  // The next second, the connection may send again.
  await sleep(1000);
  cs.trigger('client-n', { i: 99 });
  await until(() => got.includes(99), 10_000, 'an event after the window');
  assert.equal(sender.errors.length, 15);
});
