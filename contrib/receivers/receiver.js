#!/usr/bin/env node
// posthook webhook receiver: verify the signature through the JWKS, dedupe
// on uuid, answer 200 at once.
//
//     node receiver.js JWKS_URL_OR_FILE PORT [HEADER_PREFIX]
//
// Node.js 18 or newer, built-in modules only.  HEADER_PREFIX is
// signature_header_prefix of posthook.conf (default X-Posthook).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const [jwksSource, port, prefix = 'X-Posthook'] = process.argv.slice(2);
const sigHeader = prefix.toLowerCase() + '-signature';
const kidHeader = prefix.toLowerCase() + '-signature-kid';
const REFETCH_INTERVAL_MS = 1000;   // at most one JWKS fetch a second
const SEEN_MAX = 100000;            // uuids remembered for dedupe

let keys = new Map();
let lastFetch = 0;
let fetching = null;                // the JWKS fetch under way
const seen = new Set();

async function fetchJwks() {
  lastFetch = Date.now();
  let doc;
  if (/^https?:\/\//.test(jwksSource)) {
    const res = await fetch(jwksSource, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${jwksSource}: HTTP ${res.status}`);
    doc = await res.json();
  } else {
    doc = JSON.parse(fs.readFileSync(jwksSource, 'utf8'));
  }
  keys = new Map(doc.keys.filter((k) => k.kty === 'RSA').map((k) =>
    [k.kid, crypto.createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e }, format: 'jwk' })]));
}

// keyFor - the cached key; an unknown kid fetches the JWKS again (rate-limited).
// Requests that arrive while a fetch is under way wait for that fetch.
async function keyFor(kid) {
  if (!keys.has(kid) && !fetching && Date.now() - lastFetch >= REFETCH_INTERVAL_MS) {
    fetching = fetchJwks()
      .catch((e) => console.log('jwks fetch failed:', e.message))
      .finally(() => { fetching = null; });
  }
  if (!keys.has(kid) && fetching) await fetching;
  return keys.get(kid);
}

function firstSeen(uuid) {
  if (seen.has(uuid)) return false;
  seen.add(uuid);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value);
  return true;
}

function reply(res, code, text) {
  res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(text + '\n');
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const key = await keyFor(String(req.headers[kidHeader] || ''));
    const sig = Buffer.from(String(req.headers[sigHeader] || ''), 'base64');
    let event;
    try {
      if (!key || !crypto.verify('sha256', body, key, sig)) throw new Error('bad');
      event = JSON.parse(body);
    } catch (e) {
      return reply(res, 401, 'bad signature');
    }
    if (!firstSeen(event.uuid)) return reply(res, 200, 'duplicate');
    reply(res, 200, 'ok');
    // The application's real work goes here, after the answer.
    setImmediate(() => console.log('event', event.uuid, event.event));
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
