// proc.mjs -- processes for the deployment tests (tests/integration/cluster):
// a command started in its own process group, its stderr kept as lines, and
// the whole group killed on stop and at exit (a master killed alone would
// leave its workers holding the test's pipes).
//
//   const p = spawnGroup('systemd-socket-activate', ['-l', '127.0.0.1:9', ...]);
//   await p.waitFor(/Listening on/, 5000);   // a stderr line matching, past or future
//   p.text()                                  // stderr (and stdout) so far
//   await p.exited                            // {code, signal}
//   await p.kill('SIGKILL')                   // the whole group, then waits
//
// Also: timedGet(port, path, {host}) -- one request on a new connection with
// `Connection: close`, its status and the milliseconds from the connect call
// to the whole answer. What it must never do: talk to anything but loopback
// or the namespaces a test made, or outlive the test process.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { KILN_BUILD } from '../lib/server.mjs';

const groups = new Set();
process.on('exit', () => {
  for (const c of groups) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export function spawnGroup(cmd, args, { env = {}, stdio } = {}) {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: stdio ?? ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  groups.add(child);
  let out = '';
  const waiters = [];
  const onData = (d) => {
    out += d;
    for (const w of [...waiters]) {
      const m = w.re.exec(out.slice(w.from));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', onData);
  child.stderr?.setEncoding('utf8').on('data', onData);
  const p = {
    child,
    pid: child.pid,
    text: () => out,
    // Resolves with the match of re in the output from offset `from` on.
    waitFor(re, timeoutMs = 10_000, from = 0) {
      const m = re.exec(out.slice(from));
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const w = { re, from, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${cmd}: no ${re} within ${timeoutMs} ms; output:\n${out}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    exited: new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        groups.delete(child);
        resolve({ code, signal });
      }),
    ),
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill(sig = 'SIGKILL') {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* gone */
      }
      return p.exited;
    },
  };
  return p;
}

// One GET with Connection: close on a new connection to host:port (host:
// 127.0.0.1, or an address in a namespace the test made). Returns {status,
// text, headers, ms}; status 0 (text: the error) when nothing came back.
export function timedGet(port, p, { host = '127.0.0.1', timeoutMs = 10_000 } = {}) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (status, text, headers = {}) => resolve({ status, text, headers, ms: performance.now() - t0 });
    const req = http.get({ host, port, path: p, agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => done(res.statusCode, text, res.headers));
      res.on('error', (e) => done(0, String(e.code || e.message)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(0, String(e.code || e.message)));
  });
}

// True when the build under test has sanitizers (timings get headroom).
export function sanitizedBuild() {
  try {
    return fs.readFileSync(path.join(KILN_BUILD, 'kiln.sanflags'), 'utf8').includes('-fsanitize');
  } catch {
    return false;
  }
}

// Is a command on PATH?
export function haveCommand(name) {
  return (process.env.PATH || '/usr/bin:/bin:/usr/sbin:/sbin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => {
      try {
        fs.accessSync(path.join(d, name), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
