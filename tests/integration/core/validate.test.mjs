// Schemas attached to a route's config run before the handler: the query for
// GET, the body for POST (with every error listed when .all_errors is set),
// in Joi's words; the handler reads the valid input with typed getters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, request } from '../lib/extra.mjs';

let srv;
before(async () => { srv = await startFixture({ workers: 1 }); });
after(async () => { await srv?.stop(); });

const post = (body, type = 'application/json') => request(srv.port, '/api/validated', {
  method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body),
});

test('query schema: conversion, required, bounds, one-of', async () => {
  let r = await request(srv.port, '/api/validated?page=2&sort=asc');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { page: 2, sort: 'asc' });
  r = await request(srv.port, '/api/validated');
  assert.equal(r.status, 400);
  assert.equal(r.json.error, '"page" is required');
  r = await request(srv.port, '/api/validated?page=0');
  assert.equal(r.json.error, '"page" must be greater than or equal to 1');
  r = await request(srv.port, '/api/validated?page=x');
  assert.equal(r.json.error, '"page" must be a number');
  r = await request(srv.port, '/api/validated?page=1&sort=up');
  assert.equal(r.json.error, '"sort" must be one of [asc, desc]');
});

test('body schema: valid input reaches the handler, typed', async () => {
  const r = await post({ name: 'Ada', age: '36', admin: 'true', author: { name: 'x' }, tags: ['a'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { name: 'Ada', age: 36, admin: true });
  const f = await post('name=Bob&age=20', 'application/x-www-form-urlencoded');
  assert.equal(f.status, 200);
  assert.deepEqual(f.json, { name: 'Bob', age: 20, admin: false });
});

test('body schema: every error listed, first one as "error"', async () => {
  const r = await post({ name: 'a very long name', age: 3, author: {}, tags: [1], extra: true });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, '"name" length must be less than or equal to 10 characters long');
  assert.deepEqual(r.json.details, [
    { path: 'name', message: '"name" length must be less than or equal to 10 characters long' },
    { path: 'age', message: '"age" must be greater than or equal to 18' },
    { path: 'author.name', message: '"author.name" is required' },
    { path: 'tags[0]', message: '"tags[0]" must be a string' },
    { path: 'extra', message: '"extra" is not allowed' },
  ]);
  const none = await post('', 'application/json');
  assert.equal(none.status, 400);
  assert.equal(none.json.error, '"name" is required');
  const text = await post('hello', 'text/plain');
  assert.equal(text.json.error, '"value" must be of type object');
});
