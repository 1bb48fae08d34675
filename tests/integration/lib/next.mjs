// next.mjs -- the Next.js reference of the lesson (shared/reference/next-lesson),
// installed (npm install) and built (next build) into build/next-lesson/ and
// reused while its sources are unchanged; and a running `next start` of it.
// Used by every differential test against the reference, so none depends on
// another having run first.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, waitForPort } from './server.mjs';

// The lesson is not part of this repository: it sits beside it (CI's
// checkout), or NEXT_LESSON_DIR names it. Without it the differential tests
// skip, saying so.
const REF_CANDIDATES = [
  process.env.NEXT_LESSON_DIR,
  path.resolve(REPO, '../shared/reference/next-lesson'),
].filter(Boolean);
const REF = REF_CANDIDATES.find((d) => fs.existsSync(path.join(d, 'package.json')));
export const WORK = path.join(REPO, 'build', 'next-lesson');


// A hash of the reference's sources: the cached install/build is reused
// while it matches.
function refHash() {
  const h = crypto.createHash('sha256');
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'node_modules' || e.name === '.next') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(path.relative(REF, p)).update(fs.readFileSync(p));
    }
  };
  walk(REF);
  return h.digest('hex');
}

function run(cmd, args, cwd, timeoutMs) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  const lines = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n');
  const errs = lines.filter((l) => /error/i.test(l));
  const out = (errs.length ? errs.slice(0, 15) : lines.slice(-15)).join('\n');
  return { ok: !r.error && r.status === 0, why: r.error ? r.error.message : `exit ${r.status}`, out };
}

export function prepareReference() {
  if (!REF) return 'the Next.js reference of the lesson is not beside this repository (../shared/reference/next-lesson; or set NEXT_LESSON_DIR)';
  if (spawnSync('npm', ['--version']).status !== 0) return 'npm is not installed';
  const hash = refHash();
  const stamp = path.join(WORK, '.kiln-test-stamp');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash && fs.existsSync(path.join(WORK, '.next'))) return null;
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.cpSync(REF, WORK, { recursive: true });
  spawnSync('chmod', ['-R', 'u+w', WORK]);
  // `npm install`, not `npm ci`: the reference's lock file lacks the other
  // platforms' optional packages, which `npm ci` refuses.
  const inst = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], WORK, 150_000);
  if (!inst.ok) return `npm install failed (${inst.why}):\n${inst.out}`;
  const b = run(path.join(WORK, 'node_modules/.bin/next'), ['build'], WORK, 90_000);
  if (!b.ok) throw new Error(`next build of the reference failed (${b.why}):\n${b.out}`);
  fs.writeFileSync(stamp, hash);
  return null;
}


// Start `next start` on a free port: {port, stop()}. Throws with its output
// when it does not come up.
export async function startNext() {
  const port = await freePort();
  const child = spawn(path.join(WORK, 'node_modules/.bin/next'), ['start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: WORK,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  let dead = false;
  child.on('exit', () => (dead = true));
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  try {
    await waitForPort(port, { timeoutMs: 30_000, isDead: () => dead });
  } catch (e) {
    stop();
    throw new Error(`the Next.js reference did not start: ${e.message}\n${out}`);
  }
  return { port, stop };
}
