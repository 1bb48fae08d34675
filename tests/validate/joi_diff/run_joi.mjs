// run_joi.mjs -- the Joi half of the differential test.
//
// Usage: node run_joi.mjs CASES.json
// Builds a Joi schema from each case's DSL (see kiln_side.c for the DSL),
// validates the input with abortEarly (Joi's default) and without, and prints
// one JSON line per case, the same shape as kiln_side:
//   {"name", "check": null, "first": null|{message, path, type}, "all": [...]}
// Paths are Joi's details.path rendered the way Joi renders labels
// ("author.name", "tags[0]"; "" for the root).
//
// Each DSL rule maps onto Joi in the order Kiln checks its rules: string
// min, max, pattern, email; number integer, min, max; array items, min, max;
// then valid(), allow(''), unknown(), required(). The root object is
// required (Kiln reports an absent body as "value" is required).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Joi = require('joi');

function keys(map) {
  const out = {};
  for (const [name, rule] of Object.entries(map)) out[name] = build(rule);
  return out;
}

function build(r) {
  let s;
  switch (r.type) {
    case 'any': s = Joi.any(); break;
    case 'string': s = Joi.string(); break;
    case 'integer': s = Joi.number().integer(); break;
    case 'number': s = Joi.number(); break;
    case 'boolean': s = Joi.boolean(); break;
    case 'object': s = r.keys ? Joi.object(keys(r.keys)) : Joi.object(); break;
    case 'array': s = Joi.array(); if (r.items) s = s.items(build(r.items)); break;
    default: throw new Error(`unknown type ${r.type}`);
  }
  if (r.min !== undefined) s = s.min(r.min);
  if (r.max !== undefined) s = s.max(r.max);
  if (r.pattern !== undefined) s = s.pattern(new RegExp(r.pattern));
  if (r.email) s = s.email();
  if (r.oneOf) s = s.valid(...r.oneOf);
  if (r.allowEmpty) s = s.allow('');
  if (r.unknown) s = s.unknown(true);
  if (r.required) s = s.required();
  return s;
}

// Joi's errors.path(): the label of a path, without the "value" fallback.
function pathString(path) {
  let label = '';
  for (const seg of path) {
    if (typeof seg === 'string') label += (label ? '.' : '') + seg;
    else label += `[${seg}]`;
  }
  return label;
}

const detail = (d) => ({ message: d.message, path: pathString(d.path), type: d.type });

export function runJoi(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const lines = [];
  for (const c of doc.cases) {
    const def = typeof c.schema === 'string' ? doc.schemas[c.schema] : c.schema;
    let schema = Joi.object(keys(def)).required();
    if (c.unknown || c.query) schema = schema.unknown(true);
    const first = schema.validate(c.input);
    const all = schema.validate(c.input, { abortEarly: false });
    lines.push({
      name: c.name,
      check: null,
      first: first.error ? detail(first.error.details[0]) : null,
      all: all.error ? all.error.details.map(detail) : [],
    });
  }
  return lines;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  for (const line of runJoi(process.argv[2])) process.stdout.write(JSON.stringify(line) + '\n');
}
