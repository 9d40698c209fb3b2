// urql's core client with its defaults (the fetch exchange, urql's own
// Accept header): a query and a mutation, each answered as one result.
// Prints {"accept": …} (the Accept urql sent) and then one line per
// operation: {"operation": "query"|"query over POST"|"mutation",
// "contentType": …, "data": …};
// exits 0. A result with errors, or an unhandled rejection (Node's default
// makes it fatal), fails the run.
import { Client, fetchExchange, gql } from '@urql/core';
import { config, describe, emit, exit, fail } from './lib.mjs';

const { httpURL, token } = config({ needCount: false });

// Only watches: the request goes out as urql made it.
const contentTypes = [];
let acceptSent;
const watchingFetch = async (url, init) => {
  acceptSent ??= new Headers(init?.headers).get('accept');
  const res = await fetch(url, init);
  contentTypes.push(res.headers.get('content-type'));
  return res;
};

const client = new Client({
  url: httpURL,
  exchanges: [fetchExchange],
  fetch: watchingFetch,
  fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
  requestPolicy: 'network-only',
});

const run = async (operation, result) => {
  const { data, error } = await result;
  if (error) return fail(`${operation}: ${describe(error)}`);
  emit({ operation, contentType: contentTypes.at(-1), data });
};

try {
  // urql sends queries as GET within the URL length limit by default;
  // over POST they carry the same Accept as mutations.
  await run('query', client.query(gql`{ me { email } }`, {}).toPromise());
  await run('query over POST', client.query(gql`{ me { email } }`, {}, { preferGetMethod: false }).toPromise());
  await run(
    'mutation',
    client
      .mutation(gql`mutation($input: CreateTicketInput!) { createTicket(input: $input) { subject } }`, {
        input: { subject: 'Sent by urql', body: 'with its default headers' },
      })
      .toPromise(),
  );
  emit({ accept: acceptSent });
  // Leave as a program does when its work is done: anything left pending
  // (a stream being cancelled) has its chance to reject first.
  setTimeout(() => exit(0), 500);
} catch (err) {
  fail(describe(err));
}
