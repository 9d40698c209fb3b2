// Drives the wallboard page (/wallboard, package web) in Debian's
// Chromium through playwright-core, for e2e/clients/wallboard_page_test.go. Unlike the
// other scripts it tests our own client code: the page's hand-written
// graphql-transport-ws, its rendering, and that it runs under its CSP.
//
//   node wallboard-page.mjs <url> <token> [watch|refused]
//
// The page is opened as <url>/wallboard#token=<token> (an empty token:
// no fragment, so the page connects with cookies only, i.e. none here).
//
// watch (the default): waits until the page shows "live" and a number,
// prints {"ready":true} and the board, then a line each time the board
// shown changes; exits 0 once the waiting count has changed.
//
// refused: waits until the page shows an error, lets SETTLE_MS pass
// (default 2000, twice the first retry's longest delay), and prints
// {"state":"error","message":…,"sockets":n}, n being the websockets the
// page opened in all: a page that keeps retrying a refusal opens more
// than one.
//
// Any console error, uncaught exception or CSP violation on the page is
// fatal (exit 1, reason on stderr). CHROMIUM overrides /usr/bin/chromium.
import { chromium } from 'playwright-core';
import { config, emit, ready, fail, exit, describe } from './lib.mjs';

const { httpURL, token } = config({ needCount: false });
const mode = process.argv[4] || 'watch';
const settleMs = Number(process.env.SETTLE_MS || 2000);
const pageURL = new URL('/wallboard', httpURL);
if (token) pageURL.hash = `token=${encodeURIComponent(token)}`;

// The fields the page shows, by their data-field names.
const FIELDS = ['state', 'group', 'waiting', 'new', 'open', 'pending', 'unassigned', 'breached', 'dueSoon', 'solvedToday', 'oldestWaiting', 'agentsOnline', 'agentNames', 'updated', 'message'];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true });
const finish = async (code) => {
  exit(code);
  await browser.close().catch(() => {});
};

try {
  const page = await browser.newPage();
  // CSP violations reach the console as errors in Chromium; the event
  // listener catches any that would not, and says which directive.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') fail(`console error on the page: ${msg.text()} (${msg.location().url || 'no location'})`);
  });
  page.on('pageerror', (err) => fail(`uncaught exception on the page: ${describe(err)}`));
  let sockets = 0;
  page.on('websocket', () => sockets++);

  const board = () =>
    page.evaluate((fields) => {
      const out = {};
      for (const name of fields) {
        const el = document.querySelector(`[data-field="${name}"]`);
        out[name] = el ? el.textContent.trim() : null;
      }
      out.state = document.querySelector('.board').dataset.state;
      out.breachedLevel = document.querySelector('.tile-breached').dataset.level;
      return out;
    }, FIELDS);

  const response = await page.goto(pageURL.toString());
  if (!response || response.status() !== 200) fail(`GET ${pageURL.pathname}: ${response && response.status()}`);

  if (mode === 'refused') {
    await page.waitForSelector('.board[data-state="error"]');
    await page.waitForTimeout(settleMs);
    const b = await board();
    emit({ state: b.state, message: b.message, sockets });
    await finish(0);
  } else {
    await page.waitForFunction(() => {
      const live = document.querySelector('.board').dataset.state === 'live';
      return live && /^\d+$/.test(document.querySelector('[data-field="waiting"]').textContent.trim());
    });
    ready();
    let shown = await board();
    emit(shown);
    const firstWaiting = shown.waiting;
    for (;;) {
      await page.waitForTimeout(100);
      const now = await board();
      if (JSON.stringify(now) === JSON.stringify(shown)) continue;
      shown = now;
      emit(now);
      if (now.waiting !== firstWaiting) break;
    }
    await finish(0);
  }
} catch (err) {
  fail(describe(err));
  await browser.close().catch(() => {});
}
