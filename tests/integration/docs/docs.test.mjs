// Docs that cannot rot: every fenced code block in docs/*.md, README.md and
// CONTRIBUTING.md must say what it is, and this test holds it to that:
//
//   ```c file=examples/blog/pages/api/hello.c     the block IS that file (byte for byte)
//   ```c excerpt=examples/blog/pages/api/x.c      the block's lines appear, in a run, in that file
//   ```c snippet                                  compiled as the body of a handler in a scratch app
//   ```sql file=... / excerpt=...                 as for C
//   ```js ref=pages/api/hello.js                  an excerpt of the Next.js lesson (../shared/reference;
//                                                 skipped, saying so, when it is not there)
//   ```sh run                                     each `curl ...  # EXPECTED` line is run against the
//                                                 built examples/blog and must print EXPECTED
//   ```text                                       prose in a box: nothing to check
//
// The files named are themselves compiled and exercised by the other suites
// (examples/blog by the db/auth tests), so a doc that stops compiling or
// stops answering as written fails `make test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync, execSync } from 'node:child_process';
import { buildApp, startServer } from '../lib/server.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const kiln = process.env.KILN ? path.resolve(root, process.env.KILN) : path.join(root, 'build/kiln');
// The Next.js lesson sits beside the repository (or NEXT_LESSON_DIR names it).
const reference = process.env.NEXT_LESSON_DIR
  ? path.resolve(process.env.NEXT_LESSON_DIR)
  : path.resolve(root, '../shared/reference/next-lesson');

function blocks(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  const re = /^```([^\n]*)\n([\s\S]*?)^```\s*$/gm;
  let m;
  while ((m = re.exec(text))) {
    const line = text.slice(0, m.index).split('\n').length;
    const [lang, ...attrs] = m[1].trim().split(/\s+/);
    const kv = Object.fromEntries(attrs.map((a) => (a.includes('=') ? a.split(/=(.*)/s).slice(0, 2) : [a, true])));
    out.push({ file: path.relative(root, file), line, lang, attrs: kv, body: m[2] });
  }
  return out;
}

const docFiles = [path.join(root, 'README.md'), path.join(root, 'CONTRIBUTING.md'), ...fs.readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md')).map((f) => path.join(root, 'docs', f))];
const all = docFiles.flatMap(blocks);

function isExcerpt(body, whole) {
  const want = body.replace(/\s+$/, '').split('\n');
  const have = whole.split('\n');
  for (let i = 0; i + want.length <= have.length; i++) {
    if (want.every((l, k) => have[i + k].trimEnd() === l.trimEnd())) return true;
  }
  return false;
}

test('every code block in the docs is annotated', () => {
  assert.ok(all.length > 10, `found only ${all.length} code blocks`);
  for (const b of all) {
    const kinds = ['file', 'excerpt', 'snippet', 'ref', 'run'].filter((k) => b.attrs[k]);
    assert.ok(b.lang === 'text' || kinds.length === 1,
      `${b.file}:${b.line}: a \`\`\`${b.lang} block needs exactly one of file=, excerpt=, snippet, ref=, run (or use \`\`\`text)`);
  }
});

test('file= and excerpt= blocks match the real files', () => {
  for (const b of all.filter((x) => x.attrs.file || x.attrs.excerpt)) {
    const target = path.join(root, b.attrs.file || b.attrs.excerpt);
    assert.ok(fs.existsSync(target), `${b.file}:${b.line}: ${target} does not exist`);
    const whole = fs.readFileSync(target, 'utf8');
    if (b.attrs.file) assert.equal(b.body, whole, `${b.file}:${b.line}: block differs from ${b.attrs.file}`);
    else assert.ok(isExcerpt(b.body, whole), `${b.file}:${b.line}: block is not an excerpt of ${b.attrs.excerpt}`);
  }
});

test('ref= blocks are excerpts of the Next.js lesson', (t) => {
  const refs = all.filter((x) => x.attrs.ref);
  assert.ok(refs.length > 0, 'no ref= blocks found');
  if (!fs.existsSync(reference)) {
    t.skip(`the Next.js lesson is not beside this repository (${reference}): ${refs.length} ref= blocks not checked`);
    return;
  }
  for (const b of refs) {
    const whole = fs.readFileSync(path.join(reference, b.attrs.ref), 'utf8');
    assert.ok(isExcerpt(b.body, whole), `${b.file}:${b.line}: not an excerpt of ${b.attrs.ref}`);
  }
});

test('snippet blocks compile as handler bodies', () => {
  const snippets = all.filter((x) => x.attrs.snippet && x.lang === 'c');
  if (!snippets.length) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-docs-'));
  try {
    fs.mkdirSync(path.join(dir, 'pages/api'), { recursive: true });
    snippets.forEach((b, i) => {
      const src = `#include <kiln.h>\n#include <string.h>\n/* ${b.file}:${b.line} */\n` +
        `void handler(kiln_req *req, kiln_res *res)\n{\n    int64_t amount = 1, from = 1, to = 2; (void)amount; (void)from; (void)to;\n` +
        `${b.body}}\n`;
      fs.writeFileSync(path.join(dir, `pages/api/snippet${i}.c`), src);
    });
    execFileSync(kiln, ['build', dir], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`a docs snippet does not compile:\n${e.stderr?.toString() ?? e}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('run blocks answer as written against examples/blog', async () => {
  const runs = all.filter((x) => x.attrs.run);
  const lines = runs.flatMap((b) => b.body.split('\n')
    .map((l, k) => ({ b, line: b.line + 1 + k, l }))
    .filter((x) => /^curl .*#\s*\S/.test(x.l.trim())));
  assert.ok(lines.length > 0, 'no `curl ... # EXPECTED` lines found in run blocks');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-docs-blog-'));
  fs.cpSync(path.join(root, 'examples/blog'), dir, { recursive: true,
    filter: (s) => !s.includes(`${path.sep}.kiln`) && !s.includes(`${path.sep}data`) });
  await buildApp(dir);
  const srv = await startServer(dir, { workers: 1 });
  try {
    for (const { b, line, l } of lines) {
      const [cmd, expected] = l.trim().split(/\s+#\s+(.*)/s);
      const real = cmd.replace(/localhost:3000/g, `127.0.0.1:${srv.port}`).replace(/^curl /, 'curl -s ');
      const out = execSync(real, { encoding: 'utf8' }).trim();
      assert.equal(out, expected.trim(), `${b.file}:${line}: \`${cmd}\` printed ${out}`);
    }
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/reference.md names every function of kiln.h', () => {
  const header = fs.readFileSync(path.join(root, 'include/kiln.h'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const names = new Set();
  for (const m of header.matchAll(/\b(kiln_[a-z0-9_]+)\s*\([^;{}]*\)\s*(?:KILN_PRINTF\([^)]*\)\s*)?;/g)) names.add(m[1]);
  for (const m of header.matchAll(/#define\s+(kiln_[a-z0-9_]+)\(/g)) names.add(m[1]);
  assert.ok(names.size > 50, `found only ${names.size} functions in kiln.h`);
  const ref = fs.readFileSync(path.join(root, 'docs/reference.md'), 'utf8');
  const missing = [...names].filter((n) => !new RegExp(`\\b${n}\\b`).test(ref));
  assert.deepEqual(missing, [], `docs/reference.md does not mention: ${missing.join(', ')}`);
});
