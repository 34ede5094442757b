// The gateway's transport for subscriptions to a subgraph: graphql-transport-ws at the
// subgraph's /graphql/ws, used by Hive Gateway for every `ws` transport entry.
//
// It replaces @graphql-mesh/transport-ws for two reasons:
//
// - Never reconnect. graphql-ws's client retries a closed socket and subscribes again with
//   the same arguments. Heard's subscriptions promise "none missed, none twice" to a client
//   that resumes with `after` (the last `position` it got); a silent resubscription by the
//   gateway would replay from the first `after` (duplicates) or from now (gaps), and would
//   try again with credentials the subgraph just refused (it closes with 4403 when the
//   session ends or the token is revoked). Instead the client's subscription ends with one
//   error and the client subscribes again, as it does after a `LAGGED` error.
// - The upgrade headers and the connection_init payload come from a function of the
//   gateway's context (see gateway.config.mjs) rather than string interpolation.
//
// Sockets are shared only between operations with the same URL, headers and payload, that
// is, the same credentials.

import { print, getOperationAST, GraphQLError } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

function toWebSocketUrl(location) {
  const url = new URL(location);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

/**
 * The error a subscription ends with when its socket fails or is closed by the subgraph:
 * - 1002 with a reason: the subgraph refused connection_init (a bad or revoked token, an
 *   ended session); its reason is the message, as over HTTP;
 * - 4403 / 4401: the credentials the socket was opened with have ended since;
 * - anything else (refused, reset, closed): the service is unavailable.
 */
function endingError(failure, subgraphName) {
  // A CloseEvent (code, reason), an ErrorEvent or an Error (connection refused).
  const close = typeof failure?.code === 'number' ? failure.code : undefined;
  const reason = typeof failure?.reason === 'string' ? failure.reason : '';
  const error = (message, code) => new GraphQLError(message, { extensions: { code, serviceName: subgraphName } });
  if ((close === 1002 || close === 4400) && reason !== '') return error(reason, 'UNAUTHENTICATED');
  if (close === 4403 || close === 4401) {
    return error(
      `the ${subgraphName} service ended this subscription: the credentials it was made with are no longer valid`,
      close === 4403 ? 'FORBIDDEN' : 'UNAUTHENTICATED',
    );
  }
  return error(`the ${subgraphName} service is not answering just now; try again in a few seconds`, 'UNAVAILABLE');
}

/**
 * An async iterator over the client's subscription that ends with one GraphQL error instead
 * of throwing. A plain iterator rather than an async generator, so that a client unsubscribing
 * while no event is pending closes the upstream subscription at once.
 */
function guarded(upstream, subgraphName, log) {
  let finished = false;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return { done: true, value: undefined };
      try {
        return await upstream.next();
      } catch (failure) {
        finished = true;
        log.warn(
          { subgraph: subgraphName, close: failure?.code, reason: failure?.reason || failure?.message || failure?.type },
          'subgraph subscription ended',
        );
        return { done: false, value: { errors: [endingError(failure, subgraphName)] } };
      }
    },
    async return(value) {
      finished = true;
      if (upstream.return) await upstream.return(value);
      return { done: true, value };
    },
    async throw(error) {
      finished = true;
      if (upstream.return) await upstream.return();
      throw error;
    },
  };
}

/**
 * A Hive Gateway transport (`{ getSubgraphExecutor }`). `upstream(context)` gives
 * `{ headers, connectionParams }` for an operation: the upgrade request's headers and the
 * connection_init payload; undefined and empty values are left out.
 */
export function createSubscriptionTransport({ upstream }) {
  return {
    getSubgraphExecutor({ transportEntry, subgraphName, log }) {
      if (!transportEntry?.location) throw new Error(`subscriptions for ${subgraphName}: the transport entry has no location`);
      const url = toWebSocketUrl(transportEntry.location);
      const name = subgraphName || transportEntry.subgraph;
      const clients = new Map();

      function clientFor(headers, connectionParams) {
        const key = JSON.stringify([headers, connectionParams]);
        let client = clients.get(key);
        if (!client) {
          class HeardWebSocket extends WebSocket {
            constructor(address, protocols) {
              super(address, protocols, { headers });
            }
          }
          client = createClient({
            url,
            webSocketImpl: HeardWebSocket,
            connectionParams,
            lazy: true,
            lazyCloseTimeout: 3000,
            retryAttempts: 0,
            shouldRetry: () => false,
            on: {
              closed: () => {
                if (clients.get(key) === client) clients.delete(key);
              },
            },
          });
          clients.set(key, client);
        }
        return client;
      }

      function executor(request) {
        const { headers: rawHeaders = {}, connectionParams: rawParams = {} } = upstream(request.context ?? {}) ?? {};
        const headers = Object.fromEntries(Object.entries(rawHeaders).filter(([, value]) => typeof value === 'string' && value !== ''));
        const connectionParams = Object.fromEntries(
          Object.entries(rawParams).filter(([, value]) => typeof value === 'string' && value !== ''),
        );
        const operation = request.operationType ?? getOperationAST(request.document, request.operationName)?.operation;
        const iterator = clientFor(headers, connectionParams).iterate({
          query: print(request.document),
          variables: request.variables,
          operationName: request.operationName,
        });
        const signal = request.signal ?? request.info?.signal;
        if (signal) signal.addEventListener('abort', () => iterator.return?.(), { once: true });
        const result = guarded(iterator, name, log);
        if (operation === 'subscription') return result;
        return result.next().then(({ value }) => {
          result.return();
          return value;
        });
      }

      executor[Symbol.asyncDispose ?? Symbol.for("asyncDispose")] = () => Promise.all([...clients.values()].map((client) => client.dispose())).then(() => {});
      return executor;
    },
  };
}
