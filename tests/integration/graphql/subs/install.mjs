// install.mjs -- this folder's npm clients (graphql-ws, ws, graphql),
// installed with npm on first use. install() returns null when they are
// there, or why they could not be installed (the test then skips).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export function install() {
  if (['graphql-ws', 'ws', 'graphql'].every((m) => fs.existsSync(path.join(HERE, 'node_modules', m, 'package.json')))) return null;
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'pipe', timeout: 300_000 });
    return null;
  } catch (e) {
    return `npm install in ${HERE} failed (is the npm registry reachable?): ${String(e.stderr || e.message).slice(0, 300)}`;
  }
}
