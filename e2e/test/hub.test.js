// End-to-end tests of one built hub: real GraphQL clients (graphql-request,
// Apollo Client, graphql-ws, graphql-js's client schema) and the playground
// in a real headless Chromium with no outside network.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GraphQLClient, gql as gqlRequest } from 'graphql-request';
import { ApolloClient, HttpLink, InMemoryCache, gql as gqlApollo } from '@apollo/client';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  GraphQLSchema,
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { startHub } from '../lib/hub.js';
import { browserCheck } from '../lib/browser.js';

const CASES = `
  query Cases($after: String) {
    cases(first: 500, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id } }
    }
  }`;

// pageToEnd follows endCursor until hasNextPage is false and checks that the
// pages hold totalCount distinct rows.
async function pageToEnd(fetchPage) {
  const ids = new Set();
  let rows = 0;
  let pages = 0;
  let total;
  let after = null;
  for (;;) {
    const { cases } = await fetchPage(after);
    pages++;
    assert.ok(pages <= 1000, 'more than 1000 pages: the cursor does not advance');
    total ??= cases.totalCount;
    assert.equal(cases.totalCount, total, `totalCount moved on page ${pages}`);
    assert.ok(cases.edges.length <= 500, `page ${pages} has ${cases.edges.length} rows, over first: 500`);
    for (const { node } of cases.edges) {
      assert.ok(!ids.has(node.id), `case ${node.id} seen twice (page ${pages})`);
      ids.add(node.id);
    }
    rows += cases.edges.length;
    if (!cases.pageInfo.hasNextPage) break;
    assert.ok(cases.pageInfo.endCursor, `page ${pages} has a next page but no endCursor`);
    after = cases.pageInfo.endCursor;
  }
  assert.ok(total > 500, `the demo city has ${total} cases; the test needs more than one page`);
  assert.equal(rows, total, `read ${rows} rows in ${pages} pages, totalCount ${total}`);
  return { rows, pages };
}

describe('hub end to end', () => {
  let hub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => {
    await hub?.stop();
  });

  test('graphql-request pages the cases connection to its end', async () => {
    const client = new GraphQLClient(`${hub.url}/graphql`);
    const doc = gqlRequest`${CASES}`;
    const { pages } = await pageToEnd((after) => client.request(doc, { after }));
    assert.ok(pages > 1);
  });

  test('Apollo Client pages the cases connection to its end', async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: `${hub.url}/graphql` }),
      cache: new InMemoryCache(),
    });
    const doc = gqlApollo(CASES);
    try {
      await pageToEnd(async (after) => {
        const { data, error } = await client.query({ query: doc, variables: { after }, fetchPolicy: 'no-cache' });
        assert.equal(error, undefined);
        return data;
      });
    } finally {
      client.stop();
    }
  });

  test('the standard introspection query builds the schema the hub serves', async () => {
    const client = new GraphQLClient(`${hub.url}/graphql`);
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const result = await client.request(query);
    const schema = buildClientSchema(result);
    const queryType = schema.getQueryType();
    assert.equal(queryType?.name, 'Query');
    const cases = queryType.getFields().cases;
    assert.ok(cases, 'Query.cases is missing');
    assert.match(cases.description ?? '', /[\u4e00-\u9fff]/, 'Query.cases has no Chinese term in its description');
    // The introspected schema is the checked-in one, type for type,
    // field for field, description for description.
    // The checked-in SDL leaves out the directives the server defines
    // itself (@defer), so directives are compared by name.
    const golden = await readFile(resolve(import.meta.dirname, '../../graph/testdata/schema.graphql'), 'utf8');
    const wantSchema = buildSchema(golden);
    const names = (s) => s.getDirectives().map((d) => d.name);
    for (const name of [...names(wantSchema), 'defer']) {
      assert.ok(names(schema).includes(name), `directive @${name} not introspected`);
    }
    const typesOnly = new GraphQLSchema({ ...schema.toConfig(), directives: wantSchema.getDirectives() });
    const want = printSchema(lexicographicSortSchema(wantSchema));
    const got = printSchema(lexicographicSortSchema(typesOnly));
    assert.equal(got, want);
  });

  test('graphql-ws answers a query over the websocket with exactly one next', async () => {
    const query = '{ cases(first: 5) { totalCount edges { node { id } } } }';
    // Asked over HTTP first, so the socket's answers come from the
    // response cache as well as from execution.
    await new GraphQLClient(`${hub.url}/graphql`).request(query);
    for (const round of [1, 2]) {
      // Count what arrives on the socket itself, not only what the client
      // passes on.
      const frames = [];
      class CountingWebSocket extends WebSocket {
        constructor(...args) {
          super(...args);
          this.on('message', (data) => frames.push(JSON.parse(String(data)).type));
        }
      }
      const client = createClient({
        url: `${hub.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: CountingWebSocket,
        retryAttempts: 0,
        lazy: true,
      });
      const results = [];
      try {
        await new Promise((resolveDone, reject) => {
          client.subscribe({ query }, {
            next: (r) => results.push(r),
            error: reject,
            complete: resolveDone,
          });
        });
      } finally {
        await client.dispose();
      }
      assert.equal(results.length, 1, `round ${round}: ${results.length} results`);
      assert.equal(results[0].errors, undefined, JSON.stringify(results[0].errors));
      assert.equal(results[0].data.cases.edges.length, 5);
      const nexts = frames.filter((t) => t === 'next').length;
      assert.equal(nexts, 1, `round ${round}: ${nexts} next messages on the socket (${frames.length} frames)`);
      assert.ok(frames.includes('complete'), `round ${round}: no complete message`);
    }
  });

  test('the playground works in a browser with no outside network', async () => {
    await browserCheck(hub.url);
  });
});
