import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userFor } from '../../src/dev-tenant/config.js';
import { escapeHtml, errorPage, loginPage, webMessagePage } from '../../src/dev-tenant/pages.js';

describe('tenant pages', () => {
  // [input, escaped]
  const escapes: [string, string][] = [
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    [`" onmouseover='x'`, '&quot; onmouseover=&#39;x&#39;'],
    ['a & b', 'a &amp; b'],
  ];
  for (const [input, escaped] of escapes) {
    it(`escapes ${JSON.stringify(input)}`, () => {
      assert.equal(escapeHtml(input), escaped);
    });
  }

  it('the error page shows the message escaped, with no script and no framing', () => {
    const page = errorPage('<img src=x onerror=alert(1)>');
    assert.ok(page.html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.doesNotMatch(page.html, /<img|<script/);
    assert.match(page.csp, /default-src 'none'/);
    assert.match(page.csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(page.csp, /script-src/);
  });

  it('the login page has one form per user and lets the form land only on the callback origin', () => {
    const users = [userFor('user@example.com', []), userFor('admin@example.com', ['read:admin-messages'])];
    const page = loginPage({ users, transaction: 'tx"<', signup: false, callbackOrigin: 'http://localhost:4040' });
    assert.equal(page.html.match(/<form method="post" action="\/u\/login">/g)?.length, 2);
    assert.ok(page.html.includes('value="tx&quot;&lt;"'));
    assert.match(page.html, /Continue as <strong>admin@example\.com<\/strong><br><small>read:admin-messages<\/small>/);
    assert.match(page.csp, /form-action 'self' http:\/\/localhost:4040;/);
  });

  it('the web_message page posts to the exact origin and keeps the JSON inside its script', () => {
    const state = '</script><script>alert(1)</script>\u2028';
    const page = webMessagePage('http://localhost:4040', { code: 'abc', state });
    const match = /<script nonce="([^"]+)">\(window\.opener\|\|window\.parent\)\.postMessage\((.*),("[^"]*")\);<\/script>/.exec(page.html);
    assert.ok(match, page.html);
    assert.deepEqual(JSON.parse(match[2] ?? ''), { type: 'authorization_response', response: { code: 'abc', state } });
    assert.equal(JSON.parse(match[3] ?? ''), 'http://localhost:4040');
    assert.equal(page.html.split('</script>').length, 2, 'one script element, not closed early');
    assert.match(page.csp, new RegExp(`script-src 'nonce-${(match[1] ?? '').replace(/[+/]/g, '\\$&')}'`));
    assert.match(page.csp, /frame-ancestors http:\/\/localhost:4040;/);
  });
});
