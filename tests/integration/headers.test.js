// Response headers of the static files as served (widget/_headers): one strict CSP on every page and file, nosniff everywhere, the inbox never framed; and pages with nothing inline for that CSP to block.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMiniflare } from '../helpers/desk.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

/** A CSP header value as policies (a comma joins several) of directives: [Map(name -> [sources])]. */
function parseCsp(value) {
  return value.split(',').map((policy) => new Map(policy.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...sources] = d.split(/\s+/);
    return [name.toLowerCase(), sources];
  })));
}

async function get(path) {
  const res = await fetch(`${desk.url}${path}`);
  const body = await res.text();
  assert.equal(res.status, 200, `GET ${path}: ${body.slice(0, 200)}`);
  return { headers: res.headers, body };
}

const PATHS = {
  '/': { type: /^text\/html/, frameAncestors: ["'self'"] },
  '/demo.css': { type: /^text\/css/, frameAncestors: ["'self'"] },
  '/widget.js': { type: /javascript/, frameAncestors: ["'self'"] },
  '/widget-chat.js': { type: /javascript/, frameAncestors: ["'self'"] },
  '/admin/chat': { type: /^text\/html/, frameAncestors: ["'none'"] },
  '/admin/admin.js': { type: /javascript/, frameAncestors: ["'none'"] },
  '/admin/admin.css': { type: /^text\/css/, frameAncestors: ["'none'"] },
};

test('every page and file carries one strict CSP (nothing inline, nothing foreign) and nosniff', async () => {
  for (const [path, want] of Object.entries(PATHS)) {
    const { headers } = await get(path);
    assert.match(headers.get('content-type') ?? '', want.type, `${path} content-type`);
    // a header given twice (two matching _headers rules) would read "nosniff, nosniff"
    assert.equal(headers.get('x-content-type-options'), 'nosniff', `${path} X-Content-Type-Options`);
    const csp = headers.get('content-security-policy') ?? '';
    const policies = parseCsp(csp);
    // two policies would both be enforced; one is what we mean to send, so a second is a config slip
    assert.equal(policies.length, 1, `${path}: exactly one policy, got ${JSON.stringify(csp)}`);
    const [p] = policies;
    assert.deepEqual(p.get('default-src'), ["'self'"], `${path} default-src: ${csp}`);
    for (const d of ['default-src', 'script-src', 'script-src-elem', 'script-src-attr', 'style-src', 'style-src-elem', 'style-src-attr']) {
      for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", '*', 'data:', 'http:', 'https:']) {
        assert.ok(!(p.get(d) ?? []).includes(bad), `${path} ${d} allows ${bad}: ${csp}`);
      }
    }
    assert.deepEqual(p.get('base-uri'), ["'none'"], `${path} base-uri: ${csp}`);
    assert.deepEqual(p.get('form-action'), ["'self'"], `${path} form-action: ${csp}`);
    assert.deepEqual(p.get('frame-ancestors'), want.frameAncestors, `${path} frame-ancestors: ${csp}`);
  }
});

test('the inbox is never framed and sends no referrer; the demo site sends only its origin cross-site', async () => {
  for (const path of ['/admin/chat', '/admin/admin.js']) {
    const { headers } = await get(path);
    assert.equal(headers.get('x-frame-options'), 'DENY', `${path} X-Frame-Options`);
    assert.equal(headers.get('referrer-policy'), 'no-referrer', `${path} Referrer-Policy`);
  }
  for (const path of ['/', '/widget.js']) {
    const { headers } = await get(path);
    assert.equal(headers.get('referrer-policy'), 'strict-origin-when-cross-origin', `${path} Referrer-Policy`);
  }
});

test('the widget stays embeddable: a script any origin may load, briefly cached (its chat alike)', async () => {
  for (const path of ['/widget.js', '/widget-chat.js']) {
    const { headers } = await get(path);
    assert.equal(headers.get('cache-control'), 'public, max-age=300', path);
    assert.equal(headers.get('cross-origin-resource-policy'), null, `${path}: no CORP: other sites load it`);
  }
});

/** What a strict CSP blocks in a page: inline script bodies, <style> elements, on*= handlers, style= attributes, javascript: URLs. */
function inlineThings(html) {
  const found = [];
  for (const [, body] of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)) {
    if (body.trim()) found.push(`inline <script>: ${body.trim().slice(0, 60)}`);
  }
  for (const [tag] of html.matchAll(/<style\b[^>]*>/gi)) found.push(`<style> element: ${tag}`);
  for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) {
    for (const [attr] of tag.matchAll(/\s(?:on[a-z]+|style)\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)/gi)) found.push(`attribute ${attr.trim()} in ${tag}`);
    if (/=\s*["']?\s*javascript:/i.test(tag)) found.push(`javascript: URL in ${tag}`);
  }
  return found;
}

test('the demo page and the inbox have nothing inline for the CSP to block', async () => {
  // the check itself finds what it looks for
  assert.equal(inlineThings('<p onclick="x()">a</p><style>p{}</style><script>go()</script><a href="javascript:x">b</a><b style="c">d</b>').length, 5);
  assert.deepEqual(inlineThings('<script src="/a.js"></script><code>&lt;script&gt;x&lt;/script&gt;</code><p>onion=1</p>'), []);
  for (const path of ['/', '/admin/chat']) {
    const { body } = await get(path);
    assert.deepEqual(inlineThings(body), [], `${path} as served`);
  }
});
