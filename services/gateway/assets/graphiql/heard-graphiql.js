// GraphiQL for Heard. React, ReactDOM and GraphiQL are vendored and served by Heard itself
// (see README.md here), and this script is a file rather than inline, so the page's
// Content-Security-Policy allows scripts from Heard only: script-src 'self'.
(function () {
  'use strict';

  // After `mutation { login(...) }` Heard sets an HttpOnly session cookie and a readable
  // CSRF cookie; every request made with the session must echo the CSRF token in a header.
  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)heard_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : '';
  }

  function heardFetch(url, options = {}) {
    const headers = new Headers(options.headers || {});
    const token = csrfToken();
    if (token) headers.set('X-CSRF-Token', token);
    return fetch(url, { ...options, headers, credentials: 'same-origin' });
  }

  const here = new URL('/graphql', window.location.origin);
  const ws = new URL('/graphql/ws', window.location.origin);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: here.toString(), subscriptionUrl: ws.toString(), fetch: heardFetch }),
      defaultQuery:
        '# Log in first:\n# mutation { login(email: "you@example.org", password: "…") { user { displayName roles } } }\n\n' +
        '{ me { displayName roles hubs { name } } storeStats { events chainHead } }\n',
    })
  );
})();
