// subscriptions-transport-ws (the legacy graphql-ws protocol): subscribe to
// ticketEvents, print each event, exit 0 after <count> of them.
import stws from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { SUBSCRIPTION, config, counter, describe, fail, ready } from './lib.mjs';

const { SubscriptionClient } = stws;
const { wsURL, token, count } = config();

const client = new SubscriptionClient(
  wsURL,
  {
    connectionParams: { authorization: `Bearer ${token}` },
    reconnect: false,
    lazy: false,
    connectionCallback: (err) => {
      if (err) fail(`connection_error: ${describe(err)}`);
    },
  },
  WebSocket,
);

// connection_ack; the start message queued below goes out with it.
client.onConnected(() => ready());
client.onDisconnected(() => fail(`disconnected before ${count} events`));
client.onError((err) => fail(`connection error: ${describe(err)}`));

client.request({ query: SUBSCRIPTION }).subscribe({
  next: counter(count, () => client.close()),
  error: (err) => fail(`subscription error: ${describe(err)}`),
  complete: () => fail(`subscription completed before ${count} events`),
});
