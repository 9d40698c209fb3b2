// graphql-sse ("distinct connections" mode) with retries on: subscribe to
// ticketEvents from <after> and print each event until stdin ends,
// resuming after the last event on every reconnect (resume.mjs; graphql-sse
// serializes the request anew for each retry). NAIVE_RESUME=1 passes after:
// as a plain value instead, to see the test fail.
import { createClient } from 'graphql-sse';
import { RESUME_SUBSCRIPTION, backoff, config, describe, emit, fail, log, ready, untilStdinEnds } from './lib.mjs';
import { resumeVariables } from './resume.mjs';

const { httpURL, token } = config({ needCount: false });
const after = process.argv[4] || process.env.RESUME_AFTER || undefined;
const resume = resumeVariables(after);
const variables = process.env.NAIVE_RESUME === '1' ? { after } : resume.variables;

const client = createClient({
  url: httpURL,
  headers: { Authorization: `Bearer ${token}` },
  // Network errors only (a cut stream, a refused connection): graphql-sse
  // reports every other error at once.
  retryAttempts: Infinity,
  retry: backoff,
  on: {
    connected: (retried) => (retried ? log(`reconnected; last cursor ${resume.cursor}`) : ready()),
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
    complete: () => fail('stream completed'),
  },
);

untilStdinEnds(() => client.dispose());
