// procs.mjs -- looking at processes through /proc, for tests about which
// processes are alive (workers outliving their master, a server's process
// group, PostgreSQL's children ...). Zombies count as gone.
import fs from 'node:fs';
import net from 'node:net';

// {pid, ppid, pgrp, state} of every process, from /proc/PID/stat.
export function processes() {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...; comm may hold spaces and parens.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ pid: Number(e), state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]) });
  }
  return out;
}

// Live (not zombie) children of pid.
export function childrenOf(pid) {
  return processes().filter((p) => p.ppid === pid && p.state !== 'Z' && p.state !== 'X').map((p) => p.pid);
}

// Polls pred() as within() does; throws "timed out waiting for <what>" when
// it still does not hold after ms.
export async function until(pred, ms = 10_000, what = 'a condition') {
  if (!(await within(ms, pred))) throw new Error(`timed out waiting for ${what}`);
}

// The pids (ascending) of the n live worker processes of a server's master,
// once it has forked them all. The port accepts as soon as the master holds
// it, so a test that reads a worker's /proc right after start must wait for
// the fork: a few seconds at most, else it throws naming what it saw.
export async function workersOf(master, n, ms = 10_000) {
  let kids = [];
  const ok = await within(ms, () => (kids = childrenOf(master)).length === n);
  if (!ok) throw new Error(`server ${master}: ${n} worker(s) not forked within ${ms} ms; children: [${kids}]`);
  return kids.sort((a, b) => a - b);
}

// True while pid is a live (not zombie) process.
export function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

// Resolves true when a plain listening socket can be bound to the port on
// every interface (nobody listens on it any more), false otherwise.
export function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '::', ipv6Only: false }, () => s.close(() => resolve(true)));
  });
}

// Polls pred() every 25 ms until it holds (true) or ms pass (false).
export async function within(ms, pred) {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
