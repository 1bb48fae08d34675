// deploy_files.test.mjs -- the files docs/deploy.md shows
// (examples/deploy/kiln.socket, kiln.service, haproxy.cfg) are valid and do
// what the guide says:
//  - `systemd-analyze verify` accepts both units with no warning (run in a
//    scratch root holding systemd's own units and the built kiln where
//    ExecStart names it);
//  - the service's ExecStart, Environment= and the socket's
//    FileDescriptorName=, read from the unit files, run under
//    systemd-socket-activate against a built app: the first connection
//    starts it, it answers, and SIGTERM stops it with status 0 well within
//    TimeoutStopSec;
//  - `haproxy -c` accepts haproxy.cfg (the rolling-restart test runs it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KILN, REPO, buildApp, freePort } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { spawnGroup, timedGet, haveCommand } from './proc.mjs';

const DEPLOY = path.join(REPO, 'examples/deploy');
const socketUnit = fs.readFileSync(path.join(DEPLOY, 'kiln.socket'), 'utf8');
const serviceUnit = fs.readFileSync(path.join(DEPLOY, 'kiln.service'), 'utf8');
const app = copyApp('tests/fixtures/app');
before(() => buildApp(app.dir));
after(() => app.remove());

// key=value lines of a unit (every occurrence).
const values = (unit, key) =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1).trim());

test('systemd-analyze verify accepts kiln.socket and kiln.service', (t) => {
  if (!haveCommand('systemd-analyze')) return t.skip('systemd-analyze (package systemd) is not installed');
  const sysUnits = ['/lib/systemd/system', '/usr/lib/systemd/system'].find((d) => fs.existsSync(path.join(d, 'sysinit.target')));
  if (!sysUnits) return t.skip("systemd's own units (sysinit.target) are not installed");
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-units-'));
  try {
    fs.cpSync(sysUnits, path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    for (const u of ['kiln.socket', 'kiln.service']) fs.copyFileSync(path.join(DEPLOY, u), path.join(root, 'etc/systemd/system', u));
    const exe = values(serviceUnit, 'ExecStart')[0].split(/\s+/)[0];
    fs.mkdirSync(path.join(root, path.dirname(exe)), { recursive: true });
    fs.copyFileSync(KILN, path.join(root, exe));
    fs.chmodSync(path.join(root, exe), 0o755);
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'kiln.socket', 'kiln.service'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', `warnings:\n${r.stderr}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("the units' ExecStart, Environment= and FileDescriptorName= run under systemd-socket-activate", async (t) => {
  if (!haveCommand('systemd-socket-activate')) return t.skip('systemd-socket-activate (package systemd) is not installed');
  const [exec] = values(serviceUnit, 'ExecStart');
  const [bin, cmd, appDir, ...rest] = exec.split(/\s+/);
  assert.equal(path.basename(bin), 'kiln');
  assert.equal(cmd, 'start');
  assert.ok(appDir.startsWith('/'), 'the app folder is absolute');
  assert.ok(rest.includes('--idle-exit'), 'the service exits when idle');
  const [fdname] = values(socketUnit, 'FileDescriptorName');
  assert.equal(fdname, 'http');
  const stopSec = Number(values(serviceUnit, 'TimeoutStopSec')[0]);
  const env = [];
  for (const line of values(serviceUnit, 'Environment')) env.push(...line.split(/\s+/));
  assert.ok(env.some((e) => e.startsWith('KILN_SHUTDOWN_DELAY_MS=')));

  const port = await freePort();
  const args = ['-l', `127.0.0.1:${port}`, `--fdname=${fdname}`, ...env.flatMap((e) => ['-E', e])];
  const p = spawnGroup('systemd-socket-activate', [...args, KILN, cmd, app.dir, ...rest]);
  try {
    await p.waitFor(/Listening on/);
    const r = await timedGet(port, '/api/hello');
    assert.equal(r.status, 200, `${r.text}\n${p.text()}`);
    assert.match(p.text(), /socket activation: serving the socket passed by the service manager/);
    const t0 = Date.now();
    process.kill(p.pid, 'SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0, p.text());
    assert.ok(Date.now() - t0 < stopSec * 1000, 'stopped within TimeoutStopSec');
  } finally {
    await p.kill();
  }
});

test('haproxy -c accepts examples/deploy/haproxy.cfg', (t) => {
  if (!haveCommand('haproxy')) return t.skip('haproxy is not installed');
  const r = spawnSync('haproxy', ['-c', '-f', path.join(DEPLOY, 'haproxy.cfg')], {
    encoding: 'utf8',
    env: { ...process.env, KILN_LB_BIND: '127.0.0.1:8080', KILN_1: '127.0.0.1:3001', KILN_2: '127.0.0.1:3002' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
