// audit.test.mjs -- graphql-http's audit suite for GraphQL-over-HTTP servers
// (serverAudits, the npm package's own list) run against a Kiln app's
// kiln_graphql endpoint: every MUST and every SHOULD must pass; the MAYs
// are reported and, for what Kiln implements, required too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { HERE, install, startTestApp } from './lib.mjs';

test('graphql-http audits: every MUST and SHOULD passes', { timeout: 300_000 }, async (t) => {
  const why = install();
  if (why) { t.skip(why); return; }
  const { serverAudits } = await import(path.join(HERE, 'node_modules/graphql-http/lib/index.mjs'));
  const app = await startTestApp();
  try {
    const audits = serverAudits({ url: app.url, fetchFn: fetch });
    assert.ok(audits.length >= 50, `the suite has ${audits.length} audits`);
    const failed = [];
    let must = 0, should = 0;
    for (const a of audits) {
      const r = await a.fn();
      if (a.name.startsWith('MUST')) must++;
      if (a.name.startsWith('SHOULD')) should++;
      // Every MAY the endpoint implements passes too: none is left failing.
      if (r.status !== 'ok') failed.push(`${a.id} ${a.name}: ${r.status} ${r.reason}`);
    }
    assert.ok(must >= 10 && should >= 20, `MUST ${must}, SHOULD ${should}`);
    assert.deepEqual(failed, []);
  } finally {
    await app.stop();
  }
});
