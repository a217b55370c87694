// The hub's GraphiQL playground: the editor, the schema documentation and the
// query explorer, built from npm packages into web/playground/dist so that the
// page needs nothing but the hub itself (city networks have no internet).
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './hub.css';

// PLACEHOLDER is what the headers editor starts with; until the user puts
// a real key or JWT in its place the header is not sent, so a demo hub
// (anonymous role viewer) answers right away.
const PLACEHOLDER = 'Bearer <API key or JWT>';
const DEFAULT_HEADERS = JSON.stringify({ Authorization: PLACEHOLDER }, null, 2);

const DEFAULT_QUERY = `# 一网统管 data hub: Ctrl-Enter runs the query.
# Docs (left bar) describes every type and field,
# in English and Chinese (中英文说明).
# Headers: put your API key or JWT in place of the
# placeholder; a demo hub answers without one.
{
  regions(level: DISTRICT, first: 10) {
    totalCount
    edges { node { code name } }
  }
}
`;

const endpoint = new URL('graphql', window.location.href);
const wsEndpoint = new URL(endpoint);
wsEndpoint.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

const base = createGraphiQLFetcher({
  url: endpoint.href,
  subscriptionUrl: wsEndpoint.href,
});

function withoutPlaceholder(headers) {
  if (!headers) return headers;
  const out = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'authorization' && String(v).includes('<')) continue;
    out[k] = v;
  }
  return out;
}

const fetcher = (params, opts) => base(params, { ...opts, headers: withoutPlaceholder(opts?.headers) });

// ?query=, ?variables= and ?headers= fill the editors, and the query and
// variables being edited are written back, so a URL can be shared.
const params = new URLSearchParams(window.location.search);
function remember(name) {
  return (value) => {
    const next = new URLSearchParams(window.location.search);
    if (value) next.set(name, value);
    else next.delete(name);
    const search = next.toString();
    window.history.replaceState(null, '', search ? `?${search}` : window.location.pathname);
  };
}

const explorer = explorerPlugin({ showAttribution: false });

createRoot(document.getElementById('graphiql')).render(
  h(GraphiQL, {
    fetcher,
    plugins: [explorer],
    defaultQuery: DEFAULT_QUERY,
    defaultHeaders: DEFAULT_HEADERS,
    query: params.get('query') ?? undefined,
    variables: params.get('variables') ?? undefined,
    headers: params.get('headers') ?? DEFAULT_HEADERS,
    defaultEditorToolsVisibility: params.has('variables') ? 'variables' : 'headers',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
    schemaDescription: true,
    onEditQuery: remember('query'),
    onEditVariables: remember('variables'),
  }, h(GraphiQL.Logo, null, '一网统管 data hub')),
);
