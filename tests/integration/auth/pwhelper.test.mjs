// pwhelper.test.mjs -- Argon2id runs in a helper process, not in the worker
// (src/auth/pwhelper.c): libsodium maps its 64 MiB with MAP_POPULATE and
// unmaps it after each hash, and in the worker both held the address space's
// lock that the event loop's own faults and maps need (a login stalled
// /api/hello by up to 40 ms). Shown here by what the processes hold:
//   1. after logins the worker has a `--pwhash-helper` child, and the worker's
//      own peak memory (VmHWM) grew by far less than the 64 MiB one hash
//      needs -- the hashes' memory lived in the helper;
//   2. a helper killed between logins is replaced: the next login works;
//   3. when the server stops, its helpers are gone too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { prepareApp, startOn, stopAll, uniqueEmail } from './helpers.mjs';
import { alive, childrenOf, until, workersOf } from '../lib/procs.mjs';

const APP = prepareApp('examples/blog', 'blog-auth-pwhelper');
const ENV = { BLOG_LOGIN_PER_ADDRESS: '100000', BLOG_LOGIN_PER_EMAIL: '100000' };

after(stopAll);

const kib = (pid, field) => Number(fs.readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))[1]);
const helpersOf = (pid) => childrenOf(pid).filter((c) => {
  try {
    return fs.readFileSync(`/proc/${c}/cmdline`, 'latin1').split('\0').includes('--pwhash-helper');
  } catch {
    return false;
  }
});

test('password hashes run in a helper process: the worker never holds their 64 MiB, a killed helper is replaced, none outlives the server', async () => {
  const s = await startOn(APP, 'sqlite', { workers: 1, env: ENV });
  const [worker] = await workersOf(s.srv.proc.pid, 1);
  const hwm0 = kib(worker, 'VmHWM');
  const acct = { email: uniqueEmail('pwh'), password: 'helper password 1' };
  assert.equal((await s.api.post('/api/auth/signup', { json: acct })).status, 201);
  for (let i = 0; i < 5; i++) assert.equal((await s.api.post('/api/auth/login', { json: acct })).status, 200);
  const wrong = await s.api.post('/api/auth/login', { json: { ...acct, password: 'not it' } });
  assert.equal(wrong.status, 401, wrong.text);

  const helpers = helpersOf(worker);
  assert.ok(helpers.length >= 1, `no --pwhash-helper child of worker ${worker}: children [${childrenOf(worker)}]`);
  const grew = kib(worker, 'VmHWM') - hwm0;
  console.log(`# worker peak memory grew ${grew} KiB over 7 hashes; helper(s) ${helpers}: VmHWM ${helpers.map((h) => kib(h, 'VmHWM'))} KiB`);
  assert.ok(grew < 32 * 1024, `the worker's peak memory grew ${grew} KiB: a 64 MiB hash ran in it`);
  assert.ok(helpers.some((h) => kib(h, 'VmHWM') >= 60 * 1024), 'no helper ever held the 64 MiB of a hash');

  for (const h of helpers) process.kill(h, 'SIGKILL');
  await until(() => helpers.every((h) => !alive(h)), 5_000, 'the killed helpers to be reaped');
  assert.equal((await s.api.post('/api/auth/login', { json: acct })).status, 200);
  const again = helpersOf(worker);
  assert.ok(again.length >= 1 && again.every((h) => !helpers.includes(h)), `no new helper after the kill: [${again}]`);

  await s.stop();
  for (const h of again) assert.ok(!alive(h), `helper ${h} outlived its server`);
});

// Helpers are spawned from a pool thread, which blocks every signal; the
// mask (and ignored dispositions) would pass through exec, and a helper
// could then only be ended by closing its socket. It starts with an empty
// mask instead: SIGTERM ends it (no SigBlk bits, SigIgn without SIGTERM),
// and the next login gets a new helper.
test('a helper takes SIGTERM: it starts with no signal blocked, ends on SIGTERM, and is replaced', async () => {
  const s = await startOn(APP, 'sqlite', { workers: 1, env: ENV });
  const [worker] = await workersOf(s.srv.proc.pid, 1);
  const acct = { email: uniqueEmail('pwterm'), password: 'helper password 2' };
  assert.equal((await s.api.post('/api/auth/signup', { json: acct })).status, 201);
  const helpers = helpersOf(worker);
  assert.ok(helpers.length >= 1, `no --pwhash-helper child of worker ${worker}`);
  const mask = (pid, field) => BigInt('0x' + fs.readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${field}:\\s+([0-9a-f]+)`, 'm'))[1]);
  const SIGTERM_BIT = 1n << 14n;
  for (const h of helpers) {
    assert.equal(mask(h, 'SigBlk'), 0n, `helper ${h} blocks signals (SigBlk ${mask(h, 'SigBlk').toString(16)})`);
    assert.equal(mask(h, 'SigIgn') & SIGTERM_BIT, 0n, `helper ${h} ignores SIGTERM`);
  }

  for (const h of helpers) process.kill(h, 'SIGTERM');
  await until(() => helpers.every((h) => !alive(h)), 5_000, 'the helpers to end on SIGTERM');
  assert.equal((await s.api.post('/api/auth/login', { json: acct })).status, 200);
  const again = helpersOf(worker);
  assert.ok(again.length >= 1 && again.every((h) => !helpers.includes(h)), `no new helper after SIGTERM: [${again}]`);
  await s.stop();
  for (const h of again) assert.ok(!alive(h), `helper ${h} outlived its server`);
});
