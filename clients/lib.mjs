// Shared plumbing of the reference client scripts: arguments, output
// lines and the overall deadline.
//
// Every script takes:  node <script> <url> <token> [count]
// or the environment:  SWITCHBOARD_URL, SWITCHBOARD_TOKEN, EXPECT_COUNT
// (arguments win). <url> is the server's base URL (http://127.0.0.1:8080)
// or its /query endpoint. TIMEOUT_MS (default 20000) bounds the whole run.
// The *-resume.mjs scripts take [after] instead of [count] (RESUME_AFTER;
// none: live events only) and run until their stdin ends.
//
// stdout carries only JSON lines: {"ready":true} once subscribed, then one
// line per received event (the ticketEvents object itself), or for the
// close script {"closed":{...}}. Diagnostics go to stderr.

export const SUBSCRIPTION = /* GraphQL */ `
  subscription ReferenceClient {
    ticketEvents {
      cursor
      type
      ticket { id number subject status priority }
      message { body }
      actor { name }
      changes { field from to }
      at
    }
  }
`;

// RESUME_SUBSCRIPTION is what the *-resume.mjs scripts subscribe to: only
// the fields they need to show what arrived, and in which order.
export const RESUME_SUBSCRIPTION = /* GraphQL */ `
  subscription ReferenceResume($after: String) {
    ticketEvents(after: $after) {
      cursor
      type
      ticket { id }
    }
  }
`;

export function config({ needCount = true } = {}) {
  const [, script, argURL, argToken, argCount] = process.argv;
  const name = script.split('/').pop();
  const raw = argURL || process.env.SWITCHBOARD_URL;
  const token = argToken ?? process.env.SWITCHBOARD_TOKEN;
  const count = Number(argCount ?? process.env.EXPECT_COUNT ?? (needCount ? NaN : 0));
  const timeoutMs = Number(process.env.TIMEOUT_MS || 20000);
  if (!raw || token === undefined || (needCount && !(Number.isInteger(count) && count > 0))) {
    process.stderr.write(`usage: node ${name} <url> <token>${needCount ? ' <count>' : ''}  (or SWITCHBOARD_URL, SWITCHBOARD_TOKEN${needCount ? ', EXPECT_COUNT' : ''})\n`);
    process.exit(2);
  }
  const u = new URL(raw);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/query';
  const httpURL = u.toString();
  const ws = new URL(httpURL);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
  timer.unref?.();
  return { name, httpURL, wsURL: ws.toString(), token, count, timeoutMs };
}

export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

export function ready() {
  emit({ ready: true });
}

// fail reports on stderr and exits non-zero once stdout has drained. It is
// a no-op once the script is finishing (a close that the script itself
// caused after the last event is no failure).
export function fail(message, code = 1) {
  if (exiting) return;
  process.stderr.write(`${message}\n`);
  exit(code);
}

let exiting = false;
export function exit(code) {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  // Let stdout drain (it is a pipe under the Go test), then leave even if
  // a library still holds a socket open.
  process.stdout.write('', () => setTimeout(() => process.exit(code), 50));
}

// log writes a diagnostic line to stderr.
export function log(message) {
  process.stderr.write(`${message}\n`);
}

// untilStdinEnds runs the script until its standard input ends (the Go
// test closes it; by hand, Ctrl-D), then calls stop and exits 0.
export function untilStdinEnds(stop) {
  process.stdin.on('end', () => {
    exit(0);
    try {
      stop?.();
    } catch {
      /* leaving anyway */
    }
  });
  process.stdin.resume();
}

// backoff is a short retry wait for the resume scripts: 100ms doubling up
// to 1s, so that a test's reconnects take little time.
export function backoff(retries) {
  return new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** retries, 1000)));
}

// describe renders whatever a library hands to an error callback: an
// Error, a CloseEvent, a GraphQL error list or a fetch Response.
export function describe(err) {
  if (err instanceof Error) return err.stack || err.message;
  if (err && typeof err === 'object') {
    if ('code' in err && 'reason' in err) return `connection closed: code ${err.code} reason ${JSON.stringify(err.reason)}`;
    if ('status' in err && 'statusText' in err) return `HTTP ${err.status} ${err.statusText}`;
    try {
      return JSON.stringify(err);
    } catch {
      /* fall through */
    }
  }
  return String(err);
}

// counter prints each result's ticketEvents and exits 0 after count of
// them; a result with errors or without the field is fatal.
export function counter(count, done) {
  let seen = 0;
  return (result) => {
    if (seen >= count) return; // already leaving
    if (result?.errors?.length) return fail(`result with errors: ${JSON.stringify(result.errors)}`);
    const ev = result?.data?.ticketEvents;
    if (!ev) return fail(`result without ticketEvents: ${JSON.stringify(result)}`);
    emit(ev);
    if (++seen >= count) {
      exit(0);
      try {
        done?.();
      } catch {
        /* leaving anyway */
      }
    }
  };
}
