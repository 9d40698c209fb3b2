// graphql-sse in "distinct connections" mode (one POST with
// Accept: text/event-stream per operation): subscribe to ticketEvents,
// print each event, exit 0 after <count> of them.
import { createClient } from 'graphql-sse';
import { SUBSCRIPTION, config, counter, describe, fail, ready } from './lib.mjs';

const { httpURL, token, count } = config();

const client = createClient({
  url: httpURL,
  headers: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: {
    // The response headers arrived (status 200, text/event-stream).
    connected: () => ready(),
  },
});

client.subscribe(
  { query: SUBSCRIPTION },
  {
    next: counter(count, () => client.dispose()),
    error: (err) => fail(`subscription error: ${describe(err)}`),
    complete: () => fail(`stream completed before ${count} events`),
  },
);
