// netns.mjs -- a small network of Linux network namespaces for the cluster
// tests: every machine gets its own namespace and address on one bridge, and
// the test process (the client) reaches them through a veth of its own.
//
//   const net = makeNetwork(['kiln1', 'kiln2', 'lb']);  // throws if it cannot
//   net.addr('kiln1')            // '10.211.N.11'
//   net.wrap('kiln1')            // ['ip', 'netns', 'exec', 'kn<pid>-kiln1']: prefix a command
//   net.cut('kiln1', true)       // its veth's bridge end down: a network cut (false: restored)
//   net.remove()                 // also done at exit, on every path
//
// Layout (N from the pid, so that two test runs do not collide):
//   namespace kn<pid>-hub:   bridge br0
//   namespace kn<pid>-NAME:  eth0 10.211.N.(11 + i), lo up, veth into br0
//   this namespace:          kh<pid> 10.211.N.2, veth into br0
// What it owns: the namespaces and the one host-side veth it made. What it
// must never do: touch any other interface or route, or outlive the test
// process (removal runs on exit, and removing a namespace removes its veths).
// Needs root and `ip netns`: canMakeNetwork() says whether it will work.

import { spawnSync } from 'node:child_process';

const made = new Set();
process.on('exit', () => {
  for (const n of made) n.remove();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const n of made) n.remove();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.error?.message ?? ''}${r.stderr}`);
  return r.stdout;
}

// '' when namespaces can be made here, else why not.
export function canMakeNetwork() {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `kn${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error) return `no ip command (iproute2): ${r.error.message}`;
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return '';
}

export function makeNetwork(names) {
  const id = `kn${process.pid}`;
  const subnet = `10.211.${process.pid % 200 + 20}`;
  const hub = `${id}-hub`;
  const hostIf = `kh${process.pid}`;
  const nss = [hub, ...names.map((n) => `${id}-${n}`)];
  let removed = false;
  const net = {
    addr: (name) => `${subnet}.${11 + names.indexOf(name)}`,
    ns: (name) => `${id}-${name}`,
    wrap: (name) => ['ip', 'netns', 'exec', `${id}-${name}`],
    hostAddr: `${subnet}.2`,
    cut: (name, down) => ip('-n', hub, 'link', 'set', `p${names.indexOf(name)}`, down ? 'down' : 'up'),
    remove() {
      if (removed) return;
      removed = true;
      made.delete(net);
      spawnSync('ip', ['link', 'del', hostIf]);
      for (const ns of nss) spawnSync('ip', ['netns', 'del', ns]);
    },
  };
  made.add(net);
  try {
    for (const ns of nss) ip('netns', 'add', ns);
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', hub, 'link', 'set', 'br0', 'up');
    names.forEach((n, i) => {
      const ns = `${id}-${n}`;
      ip('-n', hub, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', hub, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${net.addr(n)}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    });
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'ph', 'netns', hub);
    ip('-n', hub, 'link', 'set', 'ph', 'master', 'br0', 'up');
    ip('addr', 'add', `${net.hostAddr}/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
  } catch (e) {
    net.remove();
    throw e;
  }
  return net;
}
