// chromium.test.mjs -- Chromium's own WebSocket (headless, driven by
// playwright-core, Debian's /usr/bin/chromium) against examples/blog's
// GET /api/echo: it negotiates permessage-deflate, and text stays text,
// binary stays binary, a large message comes back whole, and the close code
// and reason reach the page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startApp } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { installClients, HERE } from './lib.mjs';

const why = installClients() ?? (fs.existsSync('/usr/bin/chromium') ? null : 'no /usr/bin/chromium (Debian package chromium)');
let blog, blogCopy, browser;

before(async () => {
  if (why) return;
  blogCopy = copyApp('examples/blog');
  blog = await startApp(blogCopy.dir, { workers: 1 });
  const { chromium } = await import(path.join(HERE, 'node_modules/playwright-core/index.mjs'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  await blog?.stop();
  blogCopy?.remove();
});

test("Chromium's WebSocket against /api/echo", async (t) => {
  if (why) return t.skip(why);
  const page = await browser.newPage();
  await page.goto(`${blog.url}/api/hello`);
  const r = await page.evaluate(async () => {
    const ws = new WebSocket(`ws://${location.host}/api/echo`);
    ws.binaryType = 'arraybuffer';
    const inbox = [];
    let wake = null;
    ws.onmessage = (e) => { inbox.push(e.data); if (wake) wake(); };
    await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
    const next = () => new Promise((ok) => {
      const check = () => { if (inbox.length) ok(inbox.shift()); else wake = check; };
      check();
    });
    const out = { extensions: ws.extensions };
    ws.send('hello from chromium');
    const a = await next();
    out.text = typeof a === 'string' ? a : 'not a string';
    ws.send(new Uint8Array([1, 2, 3, 250]).buffer);
    const b = await next();
    out.binary = b instanceof ArrayBuffer ? [...new Uint8Array(b)] : 'not binary';
    const big = 'z'.repeat(500000) + 'end';
    ws.send(big);
    const c = await next();
    out.bigOk = c === big;
    const closed = new Promise((ok) => { ws.onclose = (e) => ok({ code: e.code, reason: e.reason, clean: e.wasClean }); });
    ws.close(4321, 'chromium done');
    out.close = await closed;
    return out;
  });
  assert.match(r.extensions, /permessage-deflate/);
  assert.equal(r.text, 'hello from chromium');
  assert.deepEqual(r.binary, [1, 2, 3, 250]);
  assert.equal(r.bigOk, true);
  assert.deepEqual(r.close, { code: 4321, reason: 'chromium done', clean: true });
});
