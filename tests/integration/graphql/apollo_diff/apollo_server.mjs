// apollo_server.mjs -- the oracle of apollo_diff.test.mjs: Apollo Server 5
// standalone (its defaults: CSRF prevention on, batching off; no stack
// traces in errors) on the blog's
// schema (examples/blog/graphql/schema.graphql), on 127.0.0.1:PORT. The
// resolvers read and write the same data as Kiln's blog, through the
// blog's REST routes at KILN (its base URL). Prints "ready" once listening.
//
//   node apollo_server.mjs PORT KILN
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const [port, kiln] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const typeDefs = fs.readFileSync(path.resolve(here, '../../../../examples/blog/graphql/schema.graphql'), 'utf8');

async function rest(method, p, body) {
  const r = await fetch(new URL(p, kiln), { method, headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`REST ${method} ${p}: ${r.status}`);
  return r.json();
}

const resolvers = {
  Query: {
    hello: () => 'Hello, World!',
    posts: () => rest('GET', '/api/posts'),
    post: (_, { id }) => (/^[0-9]+$/.test(id) ? rest('GET', `/api/posts/${id}`) : null),
  },
  Mutation: {
    createPost: (_, { input }) => rest('POST', '/api/posts', input),
  },
};

const server = new ApolloServer({ typeDefs, resolvers, includeStacktraceInErrorResponses: false });
await startStandaloneServer(server, { listen: { port: Number(port), host: '127.0.0.1' } });
console.log('ready');
