// Resuming ticketEvents from the latest cursor across reconnects.
//
// The retrying clients send the SAME payload object again on every retry:
// graphql-ws 6 serializes `{ id, type: 'subscribe', payload }` anew on each
// connection it makes for the subscription (client.js, subscribe(): the
// retry loop calls socket.send(stringifyMessage(...)) with the payload it
// was given), and graphql-sse 2 builds each retry's request body with
// JSON.stringify(request). A plain `variables: { after: cursor }` is read
// once, so every retry resumes from the FIRST cursor (events again) or,
// without one, from nothing (events lost). A getter is read by each
// serialization, so each retry asks for what came after the last event
// received: events are handled synchronously as they arrive, before the
// socket's close is, so the cursor is current when the retry goes out.
//
// Apollo Client's GraphQLWsLink hands its operation to graphql-ws as
// { variables, operationName, extensions, query } and sees nothing of a
// reconnect: graphql-ws retries underneath with that payload, and Apollo
// neither re-runs its links nor recomputes variables (it copies the
// variables you pass, so a getter of yours would be flattened before the
// link). resumeLink (resume-apollo.mjs) therefore installs the getter on the operation itself,
// in front of GraphQLWsLink, and follows the results going back.
//
// Once a client gives up (retries exhausted, a fatal close such as 4403)
// the subscription ends with an error; subscribe again, with after: the
// last cursor, when you want to go on.

// resumeVariables returns variables whose `after` is always the cursor of
// the last event passed to seen() (initially `after`; undefined: live
// events only, until the first event arrives), and seen(), to be called
// with each result.
export function resumeVariables(after, extra = {}) {
  let cursor = after;
  return {
    variables: {
      ...extra,
      get after() {
        return cursor;
      },
    },
    seen(result) {
      const c = latestCursor(result);
      if (c !== undefined) cursor = c;
      return result;
    },
    get cursor() {
      return cursor;
    },
  };
}

// latestCursor is the cursor of the event in a ticketEvents result (the
// root field's `cursor`, whatever its alias), or undefined.
export function latestCursor(result) {
  for (const v of Object.values(result?.data ?? {})) {
    if (typeof v?.cursor === 'string') return v.cursor;
  }
  return undefined;
}
