'use strict';
// Test issuer for pam_apitoken: a loopback OAuth 2.0 authorization server built
// on the npm package oidc-provider (pinned in package-lock.json).
//
//   node tests/idp/server.js [--port N]
//
// Listens on 127.0.0.1 only (port 0 = the OS picks one), prints exactly one
// line "listening <port>" on stdout when ready, and exits on SIGTERM/SIGINT and
// when its stdin reaches EOF (a test holds a pipe to stdin, so the server dies
// with the test). See README.md for the clients and the /test/* endpoints.

// stdout carries only the "listening <port>" line. oidc-provider prints its
// notices with console.info (stdout) and its warnings (e.g. "Unsupported
// runtime" on Node 20) with console.warn (stderr): send everything to stderr.
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => console.error(...args);
}

const http = require('node:http');
const crypto = require('node:crypto');
const { parsePort, manage, announce } = require('../support/loopback.js');

const SCOPES = ['openid', 'ssh', 'git', 'rsync', 'deploy', 'read', 'write', 'admin'];
const TOKEN_PREFIX = 'ucat_';
const DEFAULT_TTL = 300;
const MAX_BODY = 1024 * 1024;

const CLIENTS = [
  // The resource server (the PAM module): introspects any token.
  { client_id: 'rs', client_secret: 'rs-secret' },
  // May revoke any token (RFC 7009).
  { client_id: 'admin', client_secret: 'admin-secret' },
  // The client minted tokens belong to by default.
  { client_id: 'ci-client', client_secret: 'ci-secret' },
  // A second ordinary client, for tests about a token's client_id.
  { client_id: 'other-client', client_secret: 'other-secret' },
].map((c) => ({
  ...c,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: [],
  response_types: [],
  redirect_uris: [],
  // The only signing key is ES256 (quick to make at start-up); the client
  // default RS256 would make oidc-provider reject these clients on first use.
  id_token_signed_response_alg: 'ES256',
}));
const INTROSPECT_ANY = new Set(['rs', 'admin']);
const REVOKE_ANY = new Set(['admin']);

// ---------------------------------------------------------------- storage

// A plain in-memory adapter. oidc-provider's own development adapter is an LRU
// that forgets tokens after ~1,000 newer writes; this one keeps every entry
// until it expires (plus a grace period), which tests that mint many tokens need.
const GRACE_MS = 60 * 1000;
const store = new Map(); // "Model:id" -> { payload, expiresAt }
const grants = new Map(); // grantId -> Set of "Model:id"

function sweep() {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt <= now) store.delete(key);
  }
}
setInterval(sweep, 30 * 1000).unref();

class MemoryStore {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  entry(key) {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number'
      ? Date.now() + expiresIn * 1000 + GRACE_MS : Infinity;
    store.set(key, { payload: structuredClone(payload), expiresAt });
    if (payload.grantId) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
      grants.get(payload.grantId).add(key);
    }
    if (payload.uid) store.set(`uid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
  }

  async find(id) {
    const entry = this.entry(this.key(id));
    return entry ? structuredClone(entry.payload) : undefined;
  }

  async findByUid(uid) {
    const entry = this.entry(`uid:${uid}`);
    return entry ? this.find(entry.payload) : undefined;
  }

  async findByUserCode(userCode) {
    const entry = this.entry(`userCode:${userCode}`);
    return entry ? this.find(entry.payload) : undefined;
  }

  async consume(id) {
    const entry = this.entry(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const members = grants.get(grantId);
    if (!members) return;
    for (const key of members) store.delete(key);
    grants.delete(grantId);
  }
}

// ---------------------------------------------------------------- counters

const stats = { introspections: 0, revocations: 0, mints: 0 };

// ---------------------------------------------------------------- helpers

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function badRequest(res, description) {
  sendJson(res, 400, { error: 'invalid_request', error_description: description });
}

// ---------------------------------------------------------------- /test/*

// Claims for tokens being minted, read back by extraTokenClaims at save time.
const pendingClaims = new WeakMap();

async function mint(provider, req, res) {
  let form;
  try {
    form = new URLSearchParams(await readBody(req));
  } catch (e) {
    badRequest(res, e.message);
    return;
  }

  const username = form.get('username');
  if (!username) {
    badRequest(res, 'username is required');
    return;
  }

  // Like the real grants, keep only declared scopes (unknown ones are dropped).
  const requested = (form.get('scope') || '').split(' ').filter(Boolean);
  const scope = [...new Set(requested)].filter((s) => SCOPES.includes(s)).join(' ');

  let ttl = DEFAULT_TTL;
  if (form.has('ttl')) {
    const raw = form.get('ttl');
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
      badRequest(res, 'ttl must be a positive integer (seconds)');
      return;
    }
    ttl = Number(raw);
  }

  const clientId = form.get('client_id') || 'ci-client';
  const client = await provider.Client.find(clientId);
  if (!client) {
    badRequest(res, `unknown client_id ${clientId}`);
    return;
  }

  const claims = { username };
  if (form.has('ip_ranges')) {
    const raw = form.get('ip_ranges');
    let value = raw;
    try {
      const parsed = JSON.parse(raw);
      if (Array.isArray(parsed)) value = parsed;
    } catch {
      // not JSON: the claim is the raw string
    }
    claims.allowed_ip_ranges = value;
  }
  if (form.has('extra')) {
    let extra;
    try {
      extra = JSON.parse(form.get('extra'));
    } catch {
      extra = undefined;
    }
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
      badRequest(res, 'extra must be a JSON object');
      return;
    }
    Object.assign(claims, extra);
  }

  const token = new provider.AccessToken({
    accountId: username,
    client,
    scope: scope || undefined,
    expiresIn: ttl,
    gty: 'urn:apitoken:test:mint',
  });
  // oidc-provider has no setting for a token prefix, but a model saves under
  // whatever jti it has: take the provider's own opaque id and prefix it.
  token.jti = TOKEN_PREFIX + token.generateTokenId();
  pendingClaims.set(token, claims);
  const value = await token.save();
  stats.mints += 1;
  sendJson(res, 200, { access_token: value, expires_in: ttl, scope });
}

async function testRoute(provider, req, res, path) {
  if (path === '/test/mint') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    return mint(provider, req, res);
  }
  if (path === '/test/stats') {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    return sendJson(res, 200, stats);
  }
  if (path === '/test/reset') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    await readBody(req).catch(() => '');
    stats.introspections = 0;
    stats.revocations = 0;
    stats.mints = 0;
    return sendJson(res, 200, stats);
  }
  return sendJson(res, 404, { error: 'not found' });
}

// ---------------------------------------------------------------- provider

function configuration(errors) {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-es256', alg: 'ES256', use: 'sig' };

  return {
    adapter: MemoryStore,
    jwks: { keys: [jwk] },
    clients: CLIENTS,
    scopes: SCOPES,
    claims: { openid: ['sub'] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: {
      AccessToken: DEFAULT_TTL,
      ClientCredentials: DEFAULT_TTL,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
    },
    extraTokenClaims: async (ctx, token) => pendingClaims.get(token),
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => (
          INTROSPECT_ANY.has(client.clientId) || token.clientId === client.clientId
        ),
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => {
          if (REVOKE_ANY.has(client.clientId) || token.clientId === client.clientId) return true;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
    },
  };
}

async function main() {
  const port = parsePort(process.argv.slice(2));

  const { default: Provider, errors } = await import('oidc-provider');

  let handler = null;
  let provider = null;

  const server = http.createServer((req, res) => {
    const path = (req.url || '/').split('?')[0];
    if (path.startsWith('/test/')) {
      testRoute(provider, req, res, path).catch((e) => {
        console.error('test route error:', e);
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
        else res.destroy();
      });
      return;
    }
    if (req.method === 'POST' && path === '/token/introspection') stats.introspections += 1;
    if (req.method === 'POST' && path === '/token/revocation') stats.revocations += 1;
    handler(req, res);
  });
  manage(server);

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;

  provider = new Provider(`http://127.0.0.1:${actual}`, configuration(errors));
  handler = provider.callback();
  // oidc-provider validates static clients lazily: fail now, not on first use.
  for (const c of CLIENTS) await provider.Client.find(c.client_id);

  announce(actual);
}

main().catch((e) => {
  console.error('server.js:', e);
  process.exit(1);
});
