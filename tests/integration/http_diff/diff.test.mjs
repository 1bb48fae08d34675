// diff.test.mjs -- differential test of Kiln's HTTP/1.1 parser against
// Node's (llhttp, strict: insecureHTTPParser false).
//
// Every raw request of corpus.mjs goes, on a fresh connection, (a) to a Node
// http server that answers 200 "ok" once it has read the whole body, and (b)
// to a Kiln app (tests/fixtures/app, whose pages/api/echo.c answers 200 to
// every method). Each outcome is classified:
//   accepted  the first final response is 2xx
//   rejected  anything else: a 4xx/5xx, or the connection closed or went
//             quiet without a 2xx
// and the number of 2xx responses is counted (pipelined requests).
// For llhttp the verdict comes from the requests llhttp parsed complete
// (req.complete) rather than from the responses: when a valid request is
// followed by junk in the same packet, Node answers the junk with 400 before
// the handler's 200 is written, though llhttp accepted the request.
//
// Asserted:
//   - every request llhttp rejects, Kiln rejects too (Kiln may be stricter);
//     entries marked `tolerate` in the corpus are exempt, with their reason
//   - Kiln never answers MORE requests with 2xx on one connection than llhttp
//     (one connection read as two requests is how smuggling starts)
//   - the controls (valid requests) are accepted by both
//   - the Kiln server is still up and serving at the end
// A table of every request and both outcomes is printed.
//
// Env: KILN, KILN_BUILD (see ../lib/server.mjs). KILN_DIFF_PORT=P tests a
// server already listening on 127.0.0.1:P instead of building and starting
// tests/fixtures/app (for debugging the parser by hand); KILN_DIFF_APP=DIR
// builds and starts another app instead (it needs pages/api/echo.c).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { corpus } from './corpus.mjs';
import { rawExchange, parseResponses, startApp, rawOne } from '../lib/server.mjs';
import { startFixture } from '../lib/extra.mjs';

const EXCHANGE = { timeoutMs: 1500, quietMs: 200 };
const PARALLEL = 8;

// ---------------------------------------------------------------------------

// Classifies what came back for one corpus entry.
function classify(entry, ex) {
  const methods = Array(16).fill(entry.method || 'GET');
  const { responses, error } = parseResponses(ex.data, { methods });
  const finals = responses.filter((r) => !r.interim);
  const ok = finals.filter((r) => r.status >= 200 && r.status < 300).length;
  const accepted = finals.length > 0 && finals[0].status >= 200 && finals[0].status < 300;
  let how = finals.map((r) => r.status).join(',') || 'none';
  if (error) how += ' +junk';
  how += ex.timedOut ? ' (quiet)' : ex.closed ? ' (closed)' : '';
  return { accepted, ok, how, statuses: finals.map((r) => r.status) };
}

// Runs every entry against port, PARALLEL at a time; returns results by name.
async function runCorpus(port) {
  const results = new Map();
  let next = 0;
  const worker = async () => {
    while (next < corpus.length) {
      const entry = corpus[next++];
      const methods = Array(16).fill(entry.method || 'GET');
      const ex = await rawExchange(port, entry.raw, { ...EXCHANGE, methods });
      results.set(entry.name, { ...classify(entry, ex), localPort: ex.localPort });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

// ---------------------------------------------------------------------------
// (a) llhttp

const seenByNode = new Map(); // client port -> [requests Node's handler saw]
let nodeResults = null;

function startNodeServer() {
  const server = http.createServer({ insecureHTTPParser: false }, (req, res) => {
    let bytes = 0;
    const port = req.socket.remotePort;
    req.on('data', (d) => (bytes += d.length));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
    req.on('error', () => {});
    // req.complete: llhttp parsed the whole message (its body included),
    // even if the connection died before 'end' could be emitted.
    req.on('close', () => {
      if (!req.complete) return;
      const list = seenByNode.get(port) ?? [];
      list.push(`${req.method} ${req.url} body=${bytes}`);
      seenByNode.set(port, list);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('corpus names are unique', () => {
  const names = new Set();
  for (const e of corpus) {
    assert.ok(!names.has(e.name), `duplicate corpus name ${e.name}`);
    names.add(e.name);
  }
});

test('llhttp (Node http, strict) accepts the controls', async () => {
  const server = await startNodeServer();
  try {
    nodeResults = await runCorpus(server.address().port);
    for (const [name, r] of nodeResults) {
      const saw = seenByNode.get(r.localPort) ?? [];
      const how = saw.length === r.ok ? r.how : `${r.how} saw ${saw.length}`;
      nodeResults.set(name, { ...r, accepted: saw.length > 0, ok: saw.length, how, saw });
    }
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
  const bad = corpus.filter((e) => e.control && !nodeResults.get(e.name).accepted);
  assert.deepEqual(
    bad.map((e) => `${e.name}: ${nodeResults.get(e.name).how}`),
    [],
    'controls llhttp rejected: the harness or the corpus is wrong',
  );
  const rejected = corpus.filter((e) => !nodeResults.get(e.name).accepted).length;
  console.log(`llhttp: ${corpus.length - rejected} accepted, ${rejected} rejected of ${corpus.length}`);
});

// ---------------------------------------------------------------------------
// (b) Kiln

let kiln = null;
after(async () => {
  if (kiln) await kiln.stop();
});

test('Kiln rejects everything llhttp rejects, and accepts the controls', async () => {
  assert.ok(nodeResults, 'the llhttp half did not run');
  let port;
  if (process.env.KILN_DIFF_PORT) {
    port = Number(process.env.KILN_DIFF_PORT);
  } else {
    // The fixture is built from its private copy under $KILN_BUILD (extra.mjs),
    // so concurrent runs and other builds never share its objects.
    kiln = process.env.KILN_DIFF_APP
      ? await startApp(process.env.KILN_DIFF_APP, { workers: 1 })
      : await startFixture({ workers: 1 });
    port = kiln.port;
  }
  const kilnResults = await runCorpus(port);

  const failures = [];
  const stricter = [];
  const rows = [];
  for (const e of corpus) {
    const n = nodeResults.get(e.name);
    const k = kilnResults.get(e.name);
    let verdict = 'same';
    if (e.control && !k.accepted) {
      verdict = 'FAIL: control rejected';
    } else if (!n.accepted && k.accepted) {
      verdict = e.tolerate ? 'tolerated' : 'FAIL: llhttp rejects, Kiln accepts';
    } else if (k.ok > n.ok && !e.tolerate) {
      verdict = `FAIL: Kiln answered ${k.ok} requests with 2xx, llhttp ${n.ok}`;
    } else if (n.accepted && !k.accepted) {
      verdict = 'stricter';
      stricter.push(e.name);
    }
    if (verdict.startsWith('FAIL')) failures.push(`${e.name} (${e.why}): ${verdict}; llhttp ${n.how}, kiln ${k.how}`);
    rows.push([e.name, n.how, k.how, verdict, e.why]);
  }

  const w = [28, 22, 18, 12];
  const lines = [
    `${pad('request', w[0])} ${pad('llhttp', w[1])} ${pad('kiln', w[2])} ${pad('verdict', w[3])} what`,
    ...rows.map((r) => `${pad(r[0], w[0])} ${pad(r[1], w[1])} ${pad(r[2], w[2])} ${pad(r[3], w[3])} ${r[4]}`),
  ];
  console.log(lines.join('\n'));
  console.log(
    `${corpus.length} requests: ${rows.filter((r) => r[3] === 'same').length} same, ` +
      `${stricter.length} where Kiln is stricter, ` +
      `${rows.filter((r) => r[3] === 'tolerated').length} tolerated, ${failures.length} failures`,
  );

  // The server survived all that, and still serves.
  if (kiln) assert.ok(!kiln.dead, `the Kiln server died:\n${kiln.stderrText()}`);
  const last = await rawOne(port, 'GET /api/echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', {
    timeoutMs: 3000,
  });
  assert.equal(last.response?.status, 200, 'a plain GET after the corpus');

  assert.deepEqual(failures, [], 'Kiln must reject what llhttp rejects');
});
