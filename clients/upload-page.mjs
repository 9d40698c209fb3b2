// Uploads a file from a page in Debian's Chromium (playwright-core) with
// Apollo Client and apollo-upload-client's UploadHttpLink, signed in the
// way a browser app is: login(cookie: true), after which the page holds
// only the HttpOnly session cookie and sends the X-Switchboard-CSRF
// header. For e2e/clients/upload_page_test.go.
//
//   node upload-page.mjs <url> <email> <password> <ticketID> <file>
//
// The page is on the server's origin (<url>/__upload-page/, answered by
// the script) and loads the libraries as native ES modules from
// clients/node_modules through an import map (browser-modules.mjs); its
// GraphQL requests go to the real server at /query. Steps:
//  1. login(email, password, cookie: true) through Apollo; prints
//     {"login":{"user":…,"cookieVisible":…,"sessionCookie":…}} (the page cannot
//     read the cookie; the browser holds it, HttpOnly);
//  2. puts <file> in an <input type=file> (as a person choosing it would),
//     then uploadAttachment(file: input.files[0]) through UploadHttpLink;
//     prints {"upload":{"attachment":…,"request":…}}, the request being
//     what the page sent ({contentType, csrf, status});
//  3. addMessage(ticketID, body, attachmentIDs: [id]); prints
//     {"message":…} with its attachments;
//  4. GETs the attachment's url from the page (the cookie goes along);
//     prints {"download":{"status","contentType","base64"}};
//  5. the same upload through a second UploadHttpLink that does not send
//     X-Switchboard-CSRF (same origin, same cookie): prints
//     {"refused":{"error":…,"request":…}} with what the server answered;
// then exits 0. Any uncaught exception on the page, or a console error
// other than the refused request's failed load, fails the run (exit 1,
// reason on stderr). CHROMIUM overrides /usr/bin/chromium; TIMEOUT_MS
// (default 20000) bounds the run.
import { chromium } from 'playwright-core';
import { emit, fail, exit, describe, log } from './lib.mjs';
import { browserModules } from './browser-modules.mjs';

const [, , base, email, password, ticketID, file] = process.argv;
if (!base || !email || !password || !ticketID || !file) {
  process.stderr.write('usage: node upload-page.mjs <url> <email> <password> <ticketID> <file>\n');
  process.exit(2);
}
const timeoutMs = Number(process.env.TIMEOUT_MS || 20000);
setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs).unref();

const origin = new URL(base).origin;
const pageURL = `${origin}/__upload-page/`;
const modules = browserModules(origin);

// The page: an import map, a file input, and the app (window.app) the
// steps below call. The app is written as a browser app would be.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>upload</title>
<script type="importmap">${JSON.stringify(modules.importMap)}</script>
<script type="module">
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';

const client = (headers) => new ApolloClient({
  cache: new InMemoryCache(),
  link: new UploadHttpLink({ uri: '/query', credentials: 'same-origin', headers }),
});
// The app's client proves the request is its own with the CSRF header;
// the other is one that forgot it.
const withCSRF = client({ 'X-Switchboard-CSRF': '1' });
const withoutCSRF = client({});

const LOGIN = gql\`mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password, cookie: true) { token user { id email role } } }\`;
const UPLOAD = gql\`mutation Upload($file: Upload!) {
  uploadAttachment(file: $file) { id filename size contentType url messageID } }\`;
const ADD = gql\`mutation Reply($ticketID: ID!, $body: String!, $ids: [ID!]) {
  addMessage(ticketID: $ticketID, body: $body, attachmentIDs: $ids) {
    id body internal attachments { id filename size contentType url messageID } } }\`;

// describe turns an Apollo 4 error into what the server said.
const describe = (err) => ({
  name: err?.name,
  message: err?.message,
  statusCode: err?.statusCode,
  codes: (err?.errors ?? []).map((e) => e.extensions?.code),
  bodyText: err?.bodyText,
});

window.app = {
  async login(email, password) {
    const { data } = await withCSRF.mutate({ mutation: LOGIN, variables: { email, password } });
    return { user: data.login.user, cookieVisible: document.cookie.includes('switchboard') };
  },
  async upload(csrf) {
    const file = document.querySelector('input[type=file]').files[0];
    try {
      const { data } = await (csrf ? withCSRF : withoutCSRF).mutate({ mutation: UPLOAD, variables: { file } });
      return { attachment: data.uploadAttachment };
    } catch (err) {
      return { error: describe(err) };
    }
  },
  async reply(ticketID, body, ids) {
    const { data } = await withCSRF.mutate({ mutation: ADD, variables: { ticketID, body, ids } });
    return data.addMessage;
  },
  async download(url) {
    const res = await fetch(url, { credentials: 'same-origin' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return { status: res.status, contentType: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), base64: btoa(bin) };
  },
};
window.appReady = true;
</script></head>
<body><label>File <input type="file" name="file"></label></body></html>`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true });
const finish = async (code) => {
  exit(code);
  await browser.close().catch(() => {});
};

try {
  const context = await browser.newContext();
  await modules.route(context);
  await context.route(pageURL, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }));
  const page = await context.newPage();

  // While step 5 runs, the browser logs the refused request's 415.
  let refusing = false;
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (refusing && /status of 415/.test(msg.text())) return;
    fail(`console error on the page: ${msg.text()} (${msg.location().url || 'no location'})`);
  });
  page.on('pageerror', (err) => fail(`uncaught exception on the page: ${describe(err)}`));
  page.on('requestfailed', (req) => fail(`request failed: ${req.url()}: ${req.failure()?.errorText}`));

  // sending runs a step of the page and returns it with what the page
  // sent to /query for it and the status it got back.
  const sending = async (step) => {
    const [res, result] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/query' && r.request().method() === 'POST'),
      step(),
    ]);
    const h = await res.request().allHeaders();
    const request = { contentType: h['content-type'] ?? null, csrf: h['x-switchboard-csrf'] ?? null, cookie: Boolean(h.cookie), status: res.status() };
    return { ...result, request };
  };

  const response = await page.goto(pageURL);
  if (!response || response.status() !== 200) fail(`GET ${pageURL}: ${response && response.status()}`);
  await page.waitForFunction(() => window.appReady === true);

  // 1. Sign in, browser mode.
  const login = await page.evaluate(([e, p]) => window.app.login(e, p), [email, password]);
  const cookies = await context.cookies(origin);
  emit({ login: { ...login, sessionCookie: cookies.some((c) => c.name.includes('switchboard_session') && c.httpOnly) } });

  // 2. Choose the file, upload it.
  await page.setInputFiles('input[type=file]', file);
  const up = await sending(() => page.evaluate(() => window.app.upload(true)));
  emit({ upload: up });
  if (!up.attachment) throw new Error(`the upload failed: ${JSON.stringify(up)}`);

  // 3. Attach it to a reply.
  const message = await page.evaluate(([t, id]) => window.app.reply(t, 'The file you asked for', [id]), [ticketID, up.attachment.id]);
  emit({ message });

  // 4. Read it back with the cookie.
  emit({ download: await page.evaluate((u) => window.app.download(u), message.attachments[0]?.url ?? up.attachment.url) });

  // 5. The same upload without the CSRF header.
  refusing = true;
  const refused = await sending(() => page.evaluate(() => window.app.upload(false)));
  emit({ refused });
  await finish(0);
} catch (err) {
  fail(describe(err));
  log('(upload-page.mjs failed)');
  await browser.close().catch(() => {});
}
