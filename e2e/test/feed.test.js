// The change feed with real clients: graphql-ws follows caseChanged over the
// websocket from the start of the log and receives, in order and once each,
// exactly the case changes Query.changes pages through over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLClient } from 'graphql-request';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startHub } from '../lib/hub.js';

const start = Buffer.from('position:0').toString('base64url');

describe('change feed', () => {
  let hub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => {
    await hub?.stop();
  });

  test('graphql-ws receives the case changes of the demo that Query.changes lists', async () => {
    const http = new GraphQLClient(`${hub.url}/graphql`);
    const snapshot = async () => {
      const positions = [];
      let cursor = start;
      for (;;) {
        const page = await http.request(
          `query($after: String) { changes(after: $after, first: 500, types: [CASE]) {
             edges { node { position } } pageInfo { hasNextPage endCursor } } }`,
          { after: cursor },
        );
        positions.push(...page.changes.edges.map((e) => e.node.position));
        cursor = page.changes.pageInfo.endCursor;
        if (!page.changes.pageInfo.hasNextPage) return positions;
      }
    };
    // The hub is ready once the first sync has committed; the feed's
    // sequencer gives the committed changes their log positions on its
    // next step, so the log may still be empty for a moment.
    let positions = await snapshot();
    for (const until = Date.now() + 10000; positions.length === 0 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 200));
      positions = await snapshot();
    }
    assert.ok(positions.length > 0, 'the demo logged no case change within 10 s of ready');

    const client = createClient({
      url: `${hub.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    const received = [];
    try {
      await new Promise((resolveDone, reject) => {
        const timer = setTimeout(() => reject(new Error(`${received.length} of ${positions.length} changes within 60 s`)), 60000);
        const stop = client.subscribe(
          {
            query: `subscription($after: String) { caseChanged(after: $after) {
              position type operation node { id ... on Case { sourceId status } } } }`,
            variables: { after: start },
          },
          {
            next: (r) => {
              // Changes the demo logs after the snapshot (its resolution
              // passes keep updating cases) may still arrive after stop().
              if (received.length >= positions.length) return;
              if (r.errors) {
                clearTimeout(timer);
                reject(new Error(JSON.stringify(r.errors)));
                return;
              }
              const c = r.data.caseChanged;
              assert.equal(c.type, 'CASE');
              if (c.operation !== 'DELETE') assert.ok(c.node?.sourceId, JSON.stringify(c));
              received.push(c.position);
              if (received.length >= positions.length) {
                clearTimeout(timer);
                stop();
                resolveDone();
              }
            },
            error: (err) => {
              clearTimeout(timer);
              reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
            },
            complete: () => {
              clearTimeout(timer);
              resolveDone();
            },
          },
        );
      });
    } finally {
      await client.dispose();
    }
    assert.deepEqual(received, positions.slice(0, received.length));
    assert.equal(received.length, positions.length);
  });
});
