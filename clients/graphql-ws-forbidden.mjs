// graphql-ws with a token the server refuses: the server must close the
// socket with 4403 Forbidden. Retries are off, so exactly one close event
// is expected; the script prints it as {"closed":{"code":..,"reason":..}}
// and exits 0 only if it was 4403 and no second close (a reconnect)
// follows within SETTLE_MS (default 1000).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { config, emit, exit, fail } from './lib.mjs';

const { wsURL, token } = config({ needCount: false });
const settleMs = Number(process.env.SETTLE_MS || 1000);

let closes = 0;
let opened = 0;

const client = createClient({
  url: wsURL,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: 0,
  shouldRetry: () => false,
  // The close is judged in on.closed; keep the default console.error quiet.
  onNonLazyError: () => {},
  on: {
    opened: () => {
      opened++;
      if (opened > 1) fail(`socket opened ${opened} times: the client reconnected`);
    },
    connected: () => fail('server acknowledged the connection, want a 4403 close'),
    closed: (ev) => {
      closes++;
      emit({ closed: { code: ev?.code, reason: ev?.reason, wasClean: ev?.wasClean } });
      if (closes > 1) return fail(`close event observed ${closes} times, want exactly once`);
      if (ev?.code !== 4403) return fail(`close code ${ev?.code} (reason ${JSON.stringify(ev?.reason)}), want 4403`);
      setTimeout(() => exit(0), settleMs);
    },
  },
});

// A subscription too, as a real client would have; it must end in error.
client.subscribe(
  { query: 'subscription { ticketEvents { cursor } }' },
  {
    next: (r) => fail(`unexpected result: ${JSON.stringify(r)}`),
    error: () => {},
    complete: () => {},
  },
);
