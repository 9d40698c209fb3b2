// Starts GraphiQL (the UMD builds loaded before this script define React,
// ReactDOM and GraphiQL) against this server's /query: queries and
// mutations over HTTP POST, subscriptions over graphql-transport-ws on the
// same address. The Headers tab goes with both: in the request headers,
// and in the websocket's connection_init payload, where the server reads
// Authorization (a browser cannot set headers on a websocket upgrade).
//
// A file of its own rather than an inline script, so that the page's CSP
// allows scripts from this server only ('self', no 'unsafe-inline').
'use strict';

(() => {
  // GraphiQL's dialogs (settings, keyboard shortcuts) lock the page's
  // scroll bar with a <style> element they add (react-style-singleton),
  // which sets the nonce of __webpack_nonce__ when there is one; the CSP
  // allows <style> elements with this response's nonce, given to this
  // script's element. Browsers hide nonce attributes from the DOM; the
  // nonce property still reads it.
  window.__webpack_nonce__ = document.currentScript.nonce;

  const url = new URL('/query', window.location.href);
  const subscriptionUrl = new URL(url);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      isHeadersEditorEnabled: true,
      // The Headers tab (a bearer token) survives a reload, as it did
      // on gqlgen's page that this one replaces.
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
