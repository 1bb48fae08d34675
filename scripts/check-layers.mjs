#!/usr/bin/env node
// check-layers.mjs -- keeps the layering honest.
//
// Reads the "Layers" table of CONTRIBUTING.md (one row per src/ folder: the
// folders, or single headers, it may include) and checks every quoted
// #include of every file under src/, transitively: a file may reach, through
// any chain of includes, only headers of its own folder and of what its row
// allows. `kiln.h` names include/kiln.h (the public API). It also fails when a
// src/ folder has no row, when an include cannot be resolved, and when the
// table itself allows a circle between folders.
//
// With --objects BUILD/obj it also checks what the compiled objects call
// (nm): a function or variable of another folder may be used only when the
// row allows that folder, or when an allowed header (or kiln.h) declares it,
// so an `extern` written by hand cannot go round the include rules.
//
//   node scripts/check-layers.mjs [--root DIR] [--table FILE] [--objects DIR]
//
// Prints one line per violation and exits 1, or prints a summary and exits 0.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const root = path.resolve(opt('--root', path.join(path.dirname(new URL(import.meta.url).pathname), '..')));
const tablePath = path.resolve(opt('--table', path.join(root, 'CONTRIBUTING.md')));
const objDir = opt('--objects', null);

// ---- the table -------------------------------------------------------------
// Under a heading "## Layers": rows "| `folder` | `a`, `b/x.h` | what it is |".
function readTable(file) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const start = lines.findIndex((l) => /^##\s+Layers\b/.test(l));
    if (start < 0) throw new Error(`${file}: no "## Layers" section`);
    const rows = new Map();
    for (let i = start + 1; i < lines.length && !/^##\s/.test(lines[i]); i++) {
        const cells = lines[i].split('|').slice(1, -1).map((c) => c.trim());
        if (cells.length < 2 || /^-+$/.test(cells[0]) || !cells[0].startsWith('`')) continue;
        const folder = cells[0].replace(/`/g, '').replace(/^src\//, '').replace(/\/$/, '');
        const allowed = [...cells[1].matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/^src\//, '').replace(/\/$/, ''));
        rows.set(folder, new Set(allowed));
    }
    return rows;
}

// ---- the sources -----------------------------------------------------------
function walk(dir, out = []) {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, out);
        else if (/\.[ch]$/.test(e.name)) out.push(p);
    }
    return out;
}

// Where `#include "name"` in `from` leads (the compiler's order: the file's
// own folder, then -Isrc, then -Iinclude), or null.
function resolve(from, name) {
    for (const dir of [path.dirname(from), path.join(root, 'src'), path.join(root, 'include')]) {
        const p = path.join(dir, name);
        if (fs.existsSync(p)) return p;
    }
    return null;
}

const includeCache = new Map();
function includesOf(file) {
    if (!includeCache.has(file)) {
        const names = [];
        for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
            const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
            if (m) names.push(m[1]);
        }
        includeCache.set(file, names);
    }
    return includeCache.get(file);
}

// A header's layer name: "kiln.h" for include/kiln.h; else its folder under
// src/ ("runtime") and its path there ("runtime/wait.h").
function unitOf(file) {
    const rel = path.relative(root, file).split(path.sep);
    if (rel[0] === 'include') return { folder: rel.slice(1).join('/'), file: rel.slice(1).join('/') };
    if (rel[0] === 'src') return { folder: rel[1], file: rel.slice(1).join('/') };
    return { folder: '?', file: rel.join('/') };
}

// Symbols: who defines each, and who uses what.
function nm(args, file) {
    return execFileSync('nm', [...args, file], { encoding: 'utf8' }).split('\n')
        .map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2).map((f) => f[f.length - 1]);
}

function checkObjects(table, dir, problems) {
    // Only objects whose source still exists: a build folder keeps the
    // objects of files that were moved or removed since.
    const objs = walk2(path.join(dir, 'src')).filter((o) =>
        fs.existsSync(path.join(root, path.relative(dir, o)).replace(/\.o$/, '.c')));
    if (!objs.length) { problems.push(`${dir}/src: no object files (build first)`); return; }
    const definedBy = new Map();
    for (const o of objs) for (const sym of nm(['--defined-only', '-g'], o)) definedBy.set(sym, folderOfObj(dir, o));
    const headerText = new Map();
    const declares = (hdr, sym) => {
        const file = hdr === 'kiln.h' ? path.join(root, 'include/kiln.h') : path.join(root, 'src', hdr);
        if (!headerText.has(file)) headerText.set(file, fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
        return new RegExp(`\\b${sym}\\b`).test(headerText.get(file));
    };
    for (const o of objs) {
        const own = folderOfObj(dir, o);
        const allowed = table.get(own) || new Set();
        for (const sym of nm(['-u'], o)) {
            const g = definedBy.get(sym);
            if (!g || g === own || allowed.has(g)) continue;
            const viaHeader = [...allowed].some((e) => (e === 'kiln.h' || e.startsWith(g + '/')) && declares(e, sym));
            if (!viaHeader)
                problems.push(`${path.relative(dir, o)}: uses ${sym} of src/${g}/, which src/${own}/ may not use`);
        }
    }
}

function walk2(dir, out = []) {
    if (!fs.existsSync(dir)) return out;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk2(p, out);
        else if (e.name.endsWith('.o')) out.push(p);
    }
    return out;
}

function folderOfObj(dir, o) { return path.relative(path.join(dir, 'src'), o).split(path.sep)[0]; }

export function check() {
    const table = readTable(tablePath);
    const problems = [];
    const srcDir = path.join(root, 'src');
    const folders = fs.readdirSync(srcDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const f of folders)
        if (!table.has(f)) problems.push(`src/${f}/: no row in the Layers table of ${path.relative(root, tablePath)}`);

    let files = 0;
    for (const file of walk(srcDir)) {
        files++;
        const own = unitOf(file).folder;
        const allowed = table.get(own) || new Set();
        // Depth-first over the include graph, remembering the chain for the message.
        const seen = new Set();
        const stack = [[file, []]];
        while (stack.length) {
            const [cur, chain] = stack.pop();
            for (const name of includesOf(cur)) {
                const to = resolve(cur, name);
                const via = [...chain, name];
                if (!to) { problems.push(`${path.relative(root, cur)}: cannot resolve #include "${name}"`); continue; }
                if (seen.has(to)) continue;
                seen.add(to);
                const u = unitOf(to);
                if (u.folder !== own && !allowed.has(u.folder) && !allowed.has(u.file))
                    problems.push(`${path.relative(root, file)}: may not include ${u.file} (src/${own}/ may include: ` +
                                  `${[...allowed].join(', ') || 'nothing'})${via.length > 1 ? ' via ' + via.join(' -> ') : ''}`);
                stack.push([to, via]);
            }
        }
    }

    if (objDir) checkObjects(table, path.resolve(objDir), problems);

    // The table's folder graph must have no circle.
    const edges = new Map([...table].map(([f, a]) => [f, [...a].map((x) => x.split('/')[0]).filter((x) => x !== f && table.has(x))]));
    const state = new Map();
    const visit = (f, trail) => {
        if (state.get(f) === 2) return;
        if (state.get(f) === 1) { problems.push(`the Layers table has a circle: ${[...trail, f].join(' -> ')}`); return; }
        state.set(f, 1);
        for (const g of edges.get(f) || []) visit(g, [...trail, f]);
        state.set(f, 2);
    };
    for (const f of edges.keys()) visit(f, []);
    return { problems, files, folders: folders.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const { problems, files, folders } = check();
    for (const p of problems) console.log(p);
    if (problems.length) {
        console.log(`check-layers: ${problems.length} problem(s)`);
        process.exit(1);
    }
    console.log(`check-layers: ${files} files in ${folders} folders follow the Layers table`);
}
