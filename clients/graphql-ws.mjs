// graphql-ws (graphql-transport-ws protocol): subscribe to ticketEvents,
// print each event, exit 0 after <count> of them.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBSCRIPTION, config, counter, describe, fail, ready } from './lib.mjs';

const { wsURL, token, count } = config();

const client = createClient({
  url: wsURL,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: 0,
  shouldRetry: () => false,
  // lazy: false reports connection failures here (console.error by default).
  onNonLazyError: (err) => fail(`connection failed: ${describe(err)}`),
  on: {
    // connection_ack: the subscribe below goes out right after it.
    connected: () => ready(),
    closed: (ev) => fail(`closed before ${count} events: ${describe(ev)}`),
    error: (err) => fail(`connection error: ${describe(err)}`),
  },
});

client.subscribe(
  { query: SUBSCRIPTION },
  {
    next: counter(count, () => client.dispose()),
    error: (err) => fail(`subscription error: ${describe(err)}`),
    complete: () => fail(`subscription completed before ${count} events`),
  },
);
