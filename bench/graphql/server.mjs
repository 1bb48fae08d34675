// server.mjs -- the Node side of bench/graphql.sh: the bench app's schema
// (app/graphql/schema.graphql) on Apollo Server 5 or graphql-yoga, with
// Post.author through dataloader. The data is in memory (10 posts, 5
// users): Node does no database work, Kiln reads SQLite.
//
//   node server.mjs apollo|yoga PORT
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import DataLoader from 'dataloader';

const [kind, port] = process.argv.slice(2);
const typeDefs = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'app/graphql/schema.graphql'), 'utf8');
const users = new Map([1, 2, 3, 4, 5].map((i) => [String(i), { id: i, name: `user ${i}` }]));
const posts = Array.from({ length: 10 }, (_, k) => ({ id: k + 1, title: `post ${k + 1}`, content: `content of post ${k + 1}`, author_id: ((k + 1) % 5) + 1 }));
const resolvers = {
  Query: { posts: () => posts, post: (_, { id }) => posts.find((p) => String(p.id) === id) ?? null },
  Post: { author: (p, _, ctx) => ctx.users.load(String(p.author_id)) },
};
const context = () => ({ users: new DataLoader(async (keys) => keys.map((k) => users.get(k) ?? null)) });

if (kind === 'apollo') {
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  const server = new ApolloServer({ typeDefs, resolvers });
  await startStandaloneServer(server, { listen: { port: Number(port), host: '127.0.0.1' }, context: async () => context() });
} else {
  const { createYoga, createSchema } = await import('graphql-yoga');
  const yoga = createYoga({ schema: createSchema({ typeDefs, resolvers }), context, logging: false, graphqlEndpoint: '/api/graphql' });
  http.createServer(yoga).listen(Number(port), '127.0.0.1');
}
