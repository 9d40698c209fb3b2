// graphql-ws with retries on: subscribe to ticketEvents from <after> and
// print each event until stdin ends, resuming after the last event on every
// reconnect (resume.mjs). NAIVE_RESUME=1 passes after: as a plain value
// instead (the recipe the README used to give), to see the test fail.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { RESUME_SUBSCRIPTION, backoff, config, describe, emit, fail, log, ready, untilStdinEnds } from './lib.mjs';
import { resumeVariables } from './resume.mjs';

const { wsURL, token } = config({ needCount: false });
const after = process.argv[4] || process.env.RESUME_AFTER || undefined;
const resume = resumeVariables(after);
const variables = process.env.NAIVE_RESUME === '1' ? { after } : resume.variables;

let connections = 0;
const client = createClient({
  url: wsURL,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: Infinity,
  retryWait: backoff,
  // Errors (a refused connection) as well as closes, but not a refused token.
  shouldRetry: (e) => e?.code !== 4403,
  on: {
    connected: () => (connections++ === 0 ? ready() : log(`reconnected (connection ${connections})`)),
    closed: (ev) => log(`closed: ${describe(ev)}; last cursor ${resume.cursor}`),
  },
});

client.subscribe(
  { query: RESUME_SUBSCRIPTION, variables },
  {
    next: (result) => {
      if (result?.errors?.length) return fail(`result with errors: ${JSON.stringify(result.errors)}`);
      resume.seen(result);
      emit(result.data.ticketEvents);
    },
    error: (err) => fail(`subscription error: ${describe(err)}`),
    complete: () => fail('subscription completed'),
  },
);

untilStdinEnds(() => client.dispose());
