// The live-list recipe of docs/live-updates.md, run as printed with urql: the list of
// tickets(where: WHERE) kept from the events of ticketEvents(where: WHERE).
// Prints {"list": ["<id>|<status>|<priority>", …]} (sorted) once loaded and
// after every event, and {"event": TYPE} before applying each; runs until
// stdin closes. WHERE (JSON, env) defaults to {"status":"OPEN"}.
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWSClient } from 'graphql-ws';
import WebSocket from 'ws';
import { config, emit, fail } from './lib.mjs';

const { httpURL, wsURL, token } = config({ needCount: false });
const ws = createWSClient({ url: wsURL, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
const client = new Client({
  url: httpURL,
  requestPolicy: 'network-only',
  fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
  exchanges: [fetchExchange, subscriptionExchange({
    forwardSubscription: (request) => ({ subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query || '' }, sink) }) }),
  })],
});
const show = () => emit({ list: [...list.values()].map((t) => `${t.id}|${t.status}|${t.priority}`).sort() });

// ---- the recipe (docs/live-updates.md) ----
const where = JSON.parse(process.env.WHERE || '{"status":"OPEN"}');
const list = new Map();                        // id → ticket
let held = [];                                 // events that come while the list loads
const apply = (e) => {
  if (e.type === 'TICKET_LEFT') list.delete(e.ticketID);
  else if (e.type === 'VIEW_CHANGED') load();
  else list.set(e.ticket.id, e.ticket);        // created, updated, assigned, a reply, entered
  show();
};
const load = async () => {
  held ??= [];
  const { data, error } = await client.query(`query($where: TicketWhereInput) { tickets(where: $where, first: 100) {
    edges { node { id subject status priority } } } }`, { where }).toPromise();
  if (error) fail(`query: ${error.message}`);
  list.clear();
  for (const { node } of data.tickets.edges) list.set(node.id, node);
  const events = held; held = null;
  events.forEach(apply);                       // in order; applying one twice changes nothing
  show();
};
client.subscription(`subscription($where: TicketWhereInput) { ticketEvents(where: $where) {
    cursor type ticketID ticket { id subject status priority } } }`, { where })
  .subscribe(({ data, error }) => {
    if (error) return fail(`subscription: ${error.message}`);
    emit({ event: data.ticketEvents.type });
    held ? held.push(data.ticketEvents) : apply(data.ticketEvents);
  });
load();                                        // after subscribing, so that nothing falls in between
// ---- end of the recipe ----

process.stdin.on('end', () => { ws.dispose(); process.exit(0); });
process.stdin.resume();
