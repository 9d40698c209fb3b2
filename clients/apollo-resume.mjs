// Apollo Client's GraphQLWsLink over graphql-ws with retries on: subscribe
// to ticketEvents from <after> and print each event until stdin ends,
// resuming after the last event on every reconnect (resumeLink,
// resume-apollo.mjs). NAIVE_RESUME=1 leaves the link out (Apollo as is),
// to see the test fail.
import { ApolloClient, ApolloLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { RESUME_SUBSCRIPTION, backoff, config, describe, emit, fail, log, ready, untilStdinEnds } from './lib.mjs';
import { resumeLink } from './resume-apollo.mjs';

// GraphQLWsLink compares errors with WebSocket.CLOSED; Node 20 has no
// global WebSocket.
globalThis.WebSocket ??= WebSocket;

const { wsURL, token } = config({ needCount: false });
const after = process.argv[4] || process.env.RESUME_AFTER || undefined;

let connections = 0;
const ws = createClient({
  url: wsURL,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: Infinity,
  retryWait: backoff,
  shouldRetry: (e) => e?.code !== 4403,
  on: {
    connected: () => (connections++ === 0 ? ready() : log(`reconnected (connection ${connections})`)),
    closed: (ev) => log(`closed: ${describe(ev)}`),
  },
});
const wsLink = new GraphQLWsLink(ws);
const client = new ApolloClient({
  link: process.env.NAIVE_RESUME === '1' ? wsLink : ApolloLink.from([resumeLink(), wsLink]),
  cache: new InMemoryCache(),
});

const sub = client
  .subscribe({ query: gql(RESUME_SUBSCRIPTION), variables: { after }, fetchPolicy: 'no-cache' })
  .subscribe({
    next: ({ data, error }) => {
      if (error) return fail(`result with an error: ${describe(error)}`);
      const { __typename, ...ev } = data.ticketEvents;
      emit(ev);
    },
    error: (err) => fail(`subscription error: ${describe(err)}`),
    complete: () => fail('subscription completed'),
  });

untilStdinEnds(() => {
  sub.unsubscribe();
  ws.dispose();
});
