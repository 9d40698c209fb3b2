// Drives the GraphiQL playground (/, package web) in Debian's Chromium
// through playwright-core, for playground_page_test.go, as a person would
// use it on a machine without internet: nothing but the server answers
// (any request to another origin is aborted and fails the run, and no
// host name resolves but the server's address), and the page must run
// under its CSP (any violation or console error is fatal).
//
//   node playground-page.mjs <url> <email> <password> <subject>
//
// Steps, each in the page's editors and buttons:
//  1. runs the login mutation and reads the token from the result pane;
//  2. puts {"Authorization": "Bearer <token>"} in the Headers tab and
//     runs { me { email role } }; prints {"me":{...}};
//  3. opens the settings dialog (GraphiQL adds a <style> element there,
//     which the CSP's nonce must allow) and closes it;
//  4. runs a ticketEvents subscription, which GraphiQL opens over
//     graphql-transport-ws at /query with the Headers tab in
//     connection_init; prints {"ready":true} once the server acknowledged
//     it, then {"event":{...}} when a ticket with <subject> arrives in the
//     result pane (the Go test creates it), and exits 0.
//
// CHROMIUM overrides /usr/bin/chromium; TIMEOUT_MS (default 20000) bounds
// the run.
import { chromium } from 'playwright-core';
import { emit, ready, fail, exit, describe, log } from './lib.mjs';

const [, , base, email, password, subject] = process.argv;
if (!base || !email || !password || !subject) {
  process.stderr.write('usage: node playground-page.mjs <url> <email> <password> <subject>\n');
  process.exit(2);
}
const timeoutMs = Number(process.env.TIMEOUT_MS || 20000);
setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs).unref();

const origin = new URL(base).origin;
const wsOrigin = origin.replace(/^http/, 'ws');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // No name resolves (the server is addressed by its IP), as on a machine
  // without DNS; requests to other origins are also aborted below.
  args: [`--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(base).hostname}`],
});
const finish = async (code) => {
  exit(code);
  await browser.close().catch(() => {});
};

try {
  const context = await browser.newContext();
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') fail(`console error on the page: ${msg.text()} (${msg.location().url || 'no location'})`);
  });
  page.on('pageerror', (err) => fail(`uncaught exception on the page: ${describe(err)}`));
  page.on('request', (req) => {
    if (new URL(req.url()).origin !== origin) fail(`the page asked another origin: ${req.url()}`);
  });
  // The subscription's socket, and whether the server acknowledged it.
  let acked = false;
  page.on('websocket', (ws) => {
    if (!ws.url().startsWith(`${wsOrigin}/query`)) fail(`websocket to ${ws.url()}, not ${wsOrigin}/query`);
    ws.on('framereceived', (f) => {
      try {
        if (JSON.parse(f.payload).type === 'connection_ack') acked = true;
      } catch {
        /* not JSON: not ours to judge */
      }
    });
  });

  const response = await page.goto(`${origin}/`);
  if (!response || response.status() !== 200) fail(`GET /: ${response && response.status()}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');

  // CodeMirror 5's own API: typing would race its bracket completion and
  // hint pop-ups, which are GraphiQL's business, not this test's.
  const setEditor = (selector, text) =>
    page.evaluate(([s, t]) => document.querySelector(s).CodeMirror.setValue(t), [selector, text]);
  const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
  // GraphiQL parses the query editor's text a moment after each change
  // and decides from that parse whether to send an operation over HTTP or
  // the websocket: a click before it would run a subscription as the
  // previous query.
  const setQuery = async (text) => {
    await setEditor(QUERY_EDITOR, text);
    await page.waitForFunction((s) => {
      const cm = document.querySelector(s).CodeMirror;
      return cm.documentAST?.loc?.source?.body === cm.getValue();
    }, QUERY_EDITOR);
  };
  const execute = () => page.getByRole('button', { name: /^Execute query/ }).click();
  const result = () => page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue());
  const resultShows = (text) =>
    page.waitForFunction((t) => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue().includes(t), text, { timeout: timeoutMs });
  const run = async (query, until) => {
    await setQuery(query);
    await execute();
    await resultShows(until);
    return result();
  };

  // 1. Sign in.
  const login = JSON.parse(await run(`mutation { login(email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)}) { token } }`, '"token"'));
  const token = login?.data?.login?.token;
  if (!token) fail(`login answered ${JSON.stringify(login)}`);

  // 2. The Headers tab, then a query as the signed-in user.
  await page.getByRole('button', { name: 'Headers', exact: true }).click();
  await setEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', JSON.stringify({ Authorization: `Bearer ${token}` }));
  const me = JSON.parse(await run('{ me { email role } }', '"me"'));
  if (!me?.data?.me) fail(`me answered ${JSON.stringify(me)}`);
  emit({ me: me.data.me });

  // 3. A dialog: its <style> element must carry the CSP's nonce.
  await page.getByRole('button', { name: 'Open settings dialog' }).click();
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  // 4. A subscription over the websocket.
  await setQuery('subscription { ticketEvents { type ticket { subject } } }');
  await execute();
  const deadline = Date.now() + timeoutMs;
  while (!acked) {
    if (Date.now() > deadline) fail('the server never acknowledged the websocket');
    await page.waitForTimeout(50);
  }
  // No protocol message says that the server has started the
  // subscription (it follows the ack at once): the Go test creates a
  // ticket again every few seconds until one shows.
  ready();
  await resultShows(subject);
  const event = JSON.parse(await result());
  emit({ event: event?.data?.ticketEvents ?? event });
  if (foreign.length) fail(`requests to other origins: ${foreign.join(', ')}`);
  await finish(0);
} catch (err) {
  fail(describe(err));
  log('(playground-page.mjs failed)');
  await browser.close().catch(() => {});
}
