// lib.mjs -- helpers of the GraphQL-over-HTTP tests (this folder): the npm
// packages (graphql-http's audits, graphql; installed on first use) and this
// folder's app, copied, built and started.
//
// What it owns: this folder's node_modules, the app copies it makes (removed
// by stop()). What it must never do: talk to anything but 127.0.0.1.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, startServer } from '../../lib/server.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));

// null when the packages are there, or why they could not be installed (skip).
export function install() {
  if (['graphql-http', 'graphql'].every((m) => fs.existsSync(path.join(HERE, 'node_modules', m, 'package.json')))) return null;
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'pipe', timeout: 300_000 });
    return null;
  } catch (e) {
    return `npm install in ${HERE} failed (is the npm registry reachable?): ${String(e.stderr || e.message).slice(0, 300)}`;
  }
}

// This folder's app/ copied, built and started. Returns {srv, url, stop()}.
export async function startTestApp({ workers = 1, env = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-http-'));
  fs.cpSync(path.join(HERE, 'app'), dir, { recursive: true });
  try {
    buildApp(dir);
    const srv = await startServer(dir, { workers, env });
    return {
      srv,
      url: `http://127.0.0.1:${srv.port}/api/graphql`,
      async stop() { await srv.stop(); fs.rmSync(dir, { recursive: true, force: true }); },
    };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
