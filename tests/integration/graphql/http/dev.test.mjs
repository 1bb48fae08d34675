// dev.test.mjs -- `kiln dev` serves GraphQL: the app's schema and resolvers
// at its kiln_graphql route, a saved resolver or schema is live without a
// restart, a field left without its resolver answers 500 with a diagnostic
// naming graphql/schema.graphql until it is fixed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { KILN, freePort, waitForPort } from '../../lib/server.mjs';
import { HERE } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function gql(port, query) {
  const r = await fetch(`http://127.0.0.1:${port}/api/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

async function until(port, query, pred, what, timeoutMs = 30_000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await gql(port, query);
      if (pred(last)) return last;
    } catch (e) { last = { error: String(e) }; }
    await sleep(50);
  }
  assert.fail(`${what}: last answer ${JSON.stringify(last)}`);
}

test('kiln dev serves GraphQL and reloads resolvers and the SDL', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-dev-'));
  fs.cpSync(path.join(HERE, 'app'), dir, { recursive: true });
  const port = await freePort();
  const child = spawn(path.resolve(KILN), ['dev', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    await waitForPort(port, { timeoutMs: 60_000 });
    await until(port, '{ hello }', (r) => r.json?.data?.hello === 'Hello, World!', 'the first answer');

    const res = path.join(dir, 'graphql/resolvers.c');
    fs.writeFileSync(res, fs.readFileSync(res, 'utf8').replace('Hello, World!', 'Hello, Dev!'));
    await until(port, '{ hello }', (r) => r.json?.data?.hello === 'Hello, Dev!', 'the edited resolver');
    // Not a field yet: the verdict is cached (graphql/doccache.c) and must not
    // outlive the schema it was made with (the new field below answers).
    for (let i = 0; i < 2; i++) {
      const r = await until(port, '{ hello extra }', (x) => x.status === 200, 'the validation error');
      assert.deepEqual(r.json, { errors: [{ message: 'Cannot query field "extra" on type "Query".', locations: [{ line: 1, column: 9 }] }] });
    }

    const sdl = path.join(dir, 'graphql/schema.graphql');
    fs.writeFileSync(sdl, fs.readFileSync(sdl, 'utf8').replace('  hello: String!\n', '  hello: String!\n  extra: Int\n'));
    const broken = await until(port, '{ hello }', (r) => r.status === 500, 'a field without its resolver');
    assert.equal(broken.json.error, 'Build failed');
    assert.ok(broken.json.diagnostics.some((d) => d.file === 'graphql/schema.graphql'), JSON.stringify(broken.json));
    assert.match(out, /Query\.extra needs a resolver/);

    fs.appendFileSync(res, '\nvoid Query_extra(kiln_gql *g) { kiln_gql_return(g, json(g, "7")); }\n');
    const fixed = await until(port, '{ hello extra }', (r) => r.status === 200 && r.json?.data?.extra === 7, 'the new field');
    assert.deepEqual(fixed.json, { data: { hello: 'Hello, Dev!', extra: 7 } });
  } finally {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
