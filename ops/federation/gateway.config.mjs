// Hive Gateway configuration for Heard's split deployment: six subgraph processes
// (`heard serve --service NAME`) behind one gateway. Found automatically when
// `hive-gateway` runs in ops/federation; elsewhere pass --config-path.
//
//   npx hive-gateway supergraph ../../schema/supergraph.graphql --port 4000
//
// The subgraphs authenticate every request themselves (session cookie + X-CSRF-Token, or a
// bearer token) and refuse cross-site browser requests by Origin / Sec-Fetch-Site. The
// gateway only carries what they need to decide, unchanged, and adds nothing that would make
// a request look more trusted than it was.
//
// Environment:
//   HEARD_GATEWAY_HOST            address to listen on (default 127.0.0.1; --host wins)
//   HEARD_GATEWAY_MAX_BODY_BYTES  largest request body (default 1048576, as http.max_body_bytes)
//   HEARD_GATEWAY_GRAPHIQL=1      serve GraphiQL (Hive Laboratory) at /graphql (default off)
//   HEARD_<NAME>_URL              a subgraph's URL, over the one in the supergraph
//                                 (e.g. HEARD_FEEDBACK_URL=http://127.0.0.1:4002/graphql)

import { defineConfig, HTTPTransport } from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';
import { SUBGRAPHS } from './compose.mjs';
import { createSubscriptionTransport } from './subscriptions.mjs';

// No telemetry, usage reporting or schema registry: the gateway talks to the subgraphs and
// nothing else. These variables (and flags) would turn such reporting on, so refuse them
// rather than send anything anywhere.
const REPORTING_VARIABLES = [
  'HIVE_REGISTRY_TOKEN',
  'HIVE_USAGE_TARGET',
  'HIVE_TARGET',
  'HIVE_ACCESS_TOKEN',
  'HIVE_USAGE_ACCESS_TOKEN',
  'HIVE_TRACE_ACCESS_TOKEN',
  'HIVE_CDN_ENDPOINT',
  'HIVE_CDN_KEY',
  'HIVE_PERSISTED_DOCUMENTS_ENDPOINT',
  'APOLLO_KEY',
  'APOLLO_GRAPH_REF',
  'APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT',
  'OPENTELEMETRY',
];
const reportingSet = REPORTING_VARIABLES.filter((name) => process.env[name]);
const reportingFlags = process.argv.filter((arg) => /^--(hive-|apollo-|opentelemetry)/.test(arg));
if (reportingSet.length > 0 || reportingFlags.length > 0) {
  throw new Error(
    `Heard's gateway sends nothing outside the subgraphs; unset ${[...reportingSet, ...reportingFlags].join(', ')}`,
  );
}

const host = process.env.HEARD_GATEWAY_HOST || '127.0.0.1';

function positiveInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9][0-9]*$/.test(text)) throw new Error(`${name} must be a positive whole number of bytes, not ${JSON.stringify(text)}`);
  return Number(text);
}
const maxBodyBytes = positiveInteger('HEARD_GATEWAY_MAX_BODY_BYTES', 1048576);

/** Request headers passed as they are from the client to every subgraph (HTTP). */
const PASSED_ON = ['authorization', 'cookie', 'x-csrf-token', 'origin', 'sec-fetch-site', 'x-request-id'];

/** The client's address as Node saw it, without the IPv4-in-IPv6 prefix. */
function peerAddress(context) {
  const address = context?.req?.socket?.remoteAddress;
  if (typeof address !== 'string' || address === '') return undefined;
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/**
 * X-Forwarded-For for a subgraph: what the client sent (a proxy in front of the gateway)
 * with the client's own address appended, as every proxy does, so that a subgraph which trusts
 * the gateway (http.trusted_proxies) takes the nearest address it does not trust, and a client
 * cannot pose as another address by sending the header itself.
 */
function forwardedFor(request, context) {
  const prior = request.headers.get('x-forwarded-for');
  const peer = peerAddress(context);
  if (!peer) return prior ?? undefined;
  return prior ? `${prior}, ${peer}` : peer;
}

/**
 * The bearer token for a subgraph: over a websocket, from the client's `connection_init`
 * payload (`authorization`, or `Authorization`); else the Authorization header.
 */
function bearer(request, context) {
  const params = context?.connectionParams;
  if (params && typeof params === 'object') {
    const fromPayload = params.authorization ?? params.Authorization;
    if (typeof fromPayload === 'string' && fromPayload !== '') return fromPayload;
  }
  return request.headers.get('authorization') ?? undefined;
}

/**
 * The subgraph websocket's upgrade headers and connection_init payload for an operation (see
 * subscriptions.mjs). Read from the real HTTP (upgrade) request and never from
 * `context.headers`, which Hive Gateway merges with the client's `connection_init` payload: a
 * page on another site chooses that payload, so an Origin or Cookie taken from it could make a
 * cross-site socket look same-site.
 */
function subscriptionUpstream(context) {
  const request = context.request;
  if (!request) return {};
  const headers = request.headers;
  return {
    headers: {
      cookie: headers.get('cookie') ?? undefined,
      origin: headers.get('origin') ?? undefined,
      // The subgraph compares Origin with Host to decide whether a session cookie may be used
      // on a websocket; the Host the browser addressed is the gateway's.
      host: headers.get('host') ?? undefined,
      'x-forwarded-for': forwardedFor(request, context),
    },
    // The subgraph reads {"authorization": "Bearer TOKEN"}.
    connectionParams: { authorization: bearer(request, context) },
  };
}

const subscriptionTransport = createSubscriptionTransport({ upstream: subscriptionUpstream });

/** A GraphQL-shaped refusal, as the subgraphs answer. */
function refusal(fetchAPI, status, code, message) {
  return new fetchAPI.Response(JSON.stringify({ data: null, errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

/**
 * Refuses a body larger than HEARD_GATEWAY_MAX_BODY_BYTES before it is read. A body without a
 * Content-Length (chunked) cannot be measured beforehand and is refused too: every GraphQL
 * client sends the length.
 */
function useBodyLimit(limit) {
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
      const length = request.headers.get('content-length');
      if (length === null) {
        if (request.headers.has('transfer-encoding')) {
          endResponse(refusal(fetchAPI, 411, 'BAD_USER_INPUT', 'send the request with a Content-Length header'));
        }
        return;
      }
      if (!/^[0-9]+$/.test(length.trim()) || Number(length) > limit) {
        endResponse(
          refusal(fetchAPI, 413, 'BAD_USER_INPUT', `this request is larger than Heard accepts (${limit} bytes)`),
        );
      }
    },
  };
}

/** Hive Gateway's codes for a subgraph that could not be reached or did not answer in GraphQL. */
const UNREACHABLE = new Set(['SUBREQUEST_HTTP_ERROR', 'RESPONSE_VALIDATION_FAILED']);

/**
 * A subgraph that is down (connection refused, timed out) or answers something other than
 * GraphQL (a proxy's HTML 502) becomes, for the client, Heard's own UNAVAILABLE error naming
 * the service, instead of a masked "Unexpected error." (nullable fields from other subgraphs
 * still resolve; a non-null one nulls its parent, as any error does). The gateway logs one line
 * about it. Left alone, it would log the subrequest's body (variables included, which can be
 * personal data) and the subgraph's answer.
 */
function useSubgraphUnavailable() {
  function replace(result, setResult, subgraphName, log) {
    if (!result || !Array.isArray(result.errors) || !result.errors.some((error) => UNREACHABLE.has(error?.extensions?.code))) return;
    const errors = result.errors.map((error) => {
      if (!UNREACHABLE.has(error?.extensions?.code)) return error;
      log.warn(
        { subgraph: subgraphName, code: error.extensions.code, status: error.extensions.response?.status, reason: String(error.message).slice(0, 200) },
        'subgraph unavailable',
      );
      return new GraphQLError(`the ${subgraphName} service is not answering just now; try again in a few seconds`, {
        nodes: error.nodes,
        path: error.path,
        extensions: { code: 'UNAVAILABLE', serviceName: subgraphName },
      });
    });
    setResult({ ...result, errors });
  }
  return {
    onSubgraphExecute({ subgraphName, log }) {
      return ({ result, setResult }) => {
        // Subscriptions (async iterables) end with their own error: see subscriptions.mjs.
        if (result && typeof result[Symbol.asyncIterator] !== 'function') replace(result, setResult, subgraphName, log);
        return undefined;
      };
    },
  };
}

/** Per subgraph: an optional URL from the environment, and subscriptions over graphql-transport-ws. */
function transportEntries() {
  const entries = {};
  for (const { name, port } of SUBGRAPHS) {
    const variable = `HEARD_${name.toUpperCase()}_URL`;
    const location = process.env[variable];
    if (location) {
      try {
        new URL(location);
      } catch {
        throw new Error(`${variable}=${JSON.stringify(location)} is not a URL (expected e.g. http://127.0.0.1:${port}/graphql)`);
      }
    }
    entries[name] = {
      ...(location ? { location } : {}),
      options: {
        subscriptions: {
          kind: 'ws',
          // Resolved against the subgraph's URL: http://HOST:PORT/graphql -> ws://HOST:PORT/graphql/ws
          location: '/graphql/ws',
        },
      },
    };
  }
  return entries;
}

export const gatewayConfig = defineConfig({
  host,
  // The subgraphs answer cross-site requests themselves; the gateway adds no CORS headers, so a
  // browser on another site can neither read its answers nor send it preflighted requests.
  cors: false,
  landingPage: false,
  graphiql: process.env.HEARD_GATEWAY_GRAPHIQL === '1',
  // Health: GET /healthcheck (live) and /readiness (supergraph loaded) — the defaults.
  transportEntries: transportEntries(),
  propagateHeaders: {
    fromClientToSubgraphs({ request, context }) {
      const headers = {};
      for (const name of PASSED_ON) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      // Queries and mutations sent over the gateway's websocket carry the token of its
      // connection_init payload.
      const authorization = bearer(request, context);
      if (authorization) headers.authorization = authorization;
      // The subgraph accepts a browser's Origin when it matches Host or X-Forwarded-Host; the
      // host the browser addressed is the gateway's, so pass that (never the client's own
      // X-Forwarded-Host).
      const host = request.headers.get('host');
      if (host) headers['x-forwarded-host'] = host;
      const forwarded = forwardedFor(request, context);
      if (forwarded) headers['x-forwarded-for'] = forwarded;
      return headers;
    },
    fromSubgraphsToClient({ response }) {
      // Login and logout set and clear the session cookie. Each cookie stays its own header.
      const cookies = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
      return cookies.length > 0 ? { 'set-cookie': cookies } : undefined;
    },
  },
  transports: (kind) => {
    if (kind === 'http') return HTTPTransport;
    if (kind === 'ws') return subscriptionTransport;
    throw new Error(`no transport "${kind}" in Heard's gateway`);
  },
  plugins: () => [useBodyLimit(maxBodyBytes), useSubgraphUnavailable()],
});
