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
//
// It is also the SSH certificate authority of DESIGN.md §8: a test CA made
// with ssh-keygen at start-up (in a private temp dir, removed on exit), the
// "apitoken" protocol (/ssh/cert, /ssh/authority, the api_token exchange on
// /oauth2/token) and the "vault" protocol (/v1/MOUNT/sign/ROLE). A second
// key, the host CA, is published as "host_authorities" next to the user CA
// and certifies the test sshd's host keys (POST /test/host-cert).

// stdout carries only the "listening <port>" line. oidc-provider prints its
// notices with console.info (stdout) and its warnings (e.g. "Unsupported
// runtime" on Node 20) with console.warn (stderr): send everything to stderr.
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => console.error(...args);
}

const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { parsePort, manage, announce } = require('../support/loopback.js');

const SCOPES = ['openid', 'ssh', 'git', 'rsync', 'deploy', 'read', 'write', 'admin'];
const TOKEN_PREFIX = 'ucat_';
const DEFAULT_TTL = 300;
const MAX_BODY = 1024 * 1024;
const EXCHANGE_TTL = 900;
const DEFAULT_VALIDITY = '-1m:+5m';
const CA_COMMENT = 'apitoken-test-ca';
const HOST_CA_COMMENT = 'apitoken-test-host-ca';

const CLIENTS = [
  // The resource server (the PAM module): introspects any token.
  { client_id: 'rs', client_secret: 'rs-secret' },
  // May revoke any token (RFC 7009).
  { client_id: 'admin', client_secret: 'admin-secret' },
  // The client minted tokens belong to by default.
  { client_id: 'ci-client', client_secret: 'ci-secret' },
  // A second ordinary client, for tests about a token's client_id.
  { client_id: 'other-client', client_secret: 'other-secret' },
  // Resource servers for client_auth (check_client_auth.c): a secret with
  // every byte RFC 6749 §2.3.1 form-encodes, and one that sends client_secret_post.
  { client_id: 'rs-typed', client_secret: 's3cr+t/=%20 x' },
  { client_id: 'rs-post', client_secret: 'rs-post-secret', token_endpoint_auth_method: 'client_secret_post' },
].map((c) => ({
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
  grant_types: [],
  response_types: [],
  redirect_uris: [],
  // The only signing key is ES256 (quick to make at start-up); the client
  // default RS256 would make oidc-provider reject these clients on first use.
  id_token_signed_response_alg: 'ES256',
}));
const INTROSPECT_ANY = new Set(['rs', 'admin', 'rs-typed', 'rs-post']);
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

const COUNTERS = [
  'introspections', 'revocations', 'mints', 'certs', 'exchanges', 'cert_requests', 'authority',
  'accounts', 'userinfo',
];
const stats = {};
function resetStats() {
  for (const name of COUNTERS) stats[name] = 0;
}
resetStats();

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

// Saves a new opaque AccessToken through oidc-provider's model: the one path
// for /test/mint and the api_token exchange. Returns the token's value.
async function issueToken(provider, { accountId, client, scope, ttl, claims, gty }) {
  const token = new provider.AccessToken({
    accountId,
    client,
    scope: scope || undefined,
    expiresIn: ttl,
    gty,
  });
  // oidc-provider has no setting for a token prefix, but a model saves under
  // whatever jti it has: take the provider's own opaque id and prefix it.
  token.jti = TOKEN_PREFIX + token.generateTokenId();
  // oidc-provider's userinfo (/me) wants the token's Grant as well as the
  // openid scope; a token with openid gets a Grant of its own, so that
  // revoking it (which revokes its grant) still touches this token alone.
  if (token.scopes.has('openid')) {
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope(token.scope);
    token.grantId = await grant.save();
  }
  pendingClaims.set(token, claims);
  return token.save();
}

// The AccessToken with this value if it is active (stored, not revoked, not
// expired), else undefined. find() alone allows oidc-provider's clock
// tolerance (15 s) past exp; introspection does not, and neither do we.
async function activeToken(provider, value) {
  if (typeof value !== 'string' || value === '') return undefined;
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired) return undefined;
  return token;
}

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

  const value = await issueToken(provider, {
    accountId: username, client, scope, ttl, claims, gty: 'urn:apitoken:test:mint',
  });
  stats.mints += 1;
  sendJson(res, 200, { access_token: value, expires_in: ttl, scope });
}

async function testRoute(provider, req, res, urlPath) {
  if (urlPath === '/test/mint') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    return mint(provider, req, res);
  }
  if (urlPath === '/test/stats') {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    return sendJson(res, 200, stats);
  }
  if (urlPath === '/test/reset') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    await readBody(req).catch(() => '');
    resetStats();
    resetCertConfig();
    resetHostAuthorities();
    return sendJson(res, 200, stats);
  }
  if (urlPath === '/test/host-authorities') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    return setHostAuthorities(req, res);
  }
  if (urlPath === '/test/host-cert') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    return hostCert(req, res);
  }
  if (urlPath === '/test/cert-config') {
    if (req.method === 'GET') return sendJson(res, 200, certConfigView());
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    return setCertConfig(req, res);
  }
  return sendJson(res, 404, { error: 'not found' });
}

// ---------------------------------------------------------------- SSH CA

// The test CA: an Ed25519 key made by the real ssh-keygen in a private temp
// dir, which goes away with the process (process 'exit' runs on every exit
// path of loopback.js: SIGTERM/SIGINT/SIGHUP, stdin EOF, and process.exit).
let caDir = null;
let caPublic = null; // "ssh-ed25519 AAAA… apitoken-test-ca"
let hostCaPublic = null; // "ssh-ed25519 AAAA… apitoken-test-host-ca"
let nextSerial = 1;

function sshKeygen(args) {
  return execFileSync('ssh-keygen', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10000,
    encoding: 'utf8',
  });
}

function removeCaDir() {
  if (caDir === null) return;
  try {
    fs.rmSync(caDir, { recursive: true, force: true });
  } catch {
    // nothing more to do on the way out
  }
  caDir = null;
}

function setupCa() {
  caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apitoken-idp-ca-'));
  process.on('exit', removeCaDir);
  fs.chmodSync(caDir, 0o700);
  sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', CA_COMMENT, '-f', path.join(caDir, 'ca')]);
  caPublic = fs.readFileSync(path.join(caDir, 'ca.pub'), 'utf8').trim();
  sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', HOST_CA_COMMENT, '-f', path.join(caDir, 'hostca')]);
  hostCaPublic = fs.readFileSync(path.join(caDir, 'hostca.pub'), 'utf8').trim();
}

// What GET .../authority says under "host_authorities": the host CA by
// default; POST /test/host-authorities replaces it until /test/reset (a
// JSON body {"host_authorities": ANY}, the member left out when absent), so
// tests can play an issuer without host CAs or with a malformed list.
const OMIT = Symbol('omit'); // no "host_authorities" member at all
let hostAuthoritiesOverride; // undefined: [the host CA]
function resetHostAuthorities() {
  hostAuthoritiesOverride = undefined;
}

async function setHostAuthorities(req, res) {
  let fields;
  try {
    fields = JSON.parse(await readBody(req));
  } catch {
    fields = null;
  }
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    return badRequest(res, 'the body must be a JSON object');
  }
  hostAuthoritiesOverride = Object.prototype.hasOwnProperty.call(fields, 'host_authorities')
    ? fields.host_authorities : OMIT;
  return sendJson(res, 200, { host_ca: hostCaPublic });
}

// POST /test/host-cert?principals=A,B with a host public key line as the
// body (any type ssh-keygen reads): {"certificate": "...-cert-v01@openssh.com ..."},
// a host certificate by the host CA, for sshd's HostCertificate.
async function hostCert(req, res) {
  const principals = new URL(req.url, 'http://x').searchParams.get('principals') || '';
  const line = (await readBody(req)).trim();
  if (!PRINCIPALS_RE.test(principals)) return badRequest(res, 'principals: host names, comma-separated');
  if (!/^[a-z0-9@.-]{1,64} [A-Za-z0-9+/]+={0,2}( [^\x00-\x1f\x7f]*)?$/.test(line)) {
    return badRequest(res, 'the body must be one public key line');
  }
  const dir = fs.mkdtempSync(path.join(caDir, 'host-'));
  try {
    fs.writeFileSync(path.join(dir, 'host.pub'), `${line}\n`, { mode: 0o600 });
    sshKeygen(['-q', '-s', path.join(caDir, 'hostca'), '-h', '-I', 'apitoken-test-host',
      '-n', principals, '-V', '-5m:+1d', path.join(dir, 'host.pub')]);
    return sendJson(res, 200, { certificate: fs.readFileSync(path.join(dir, 'host-cert.pub'), 'utf8').trim() });
  } catch (e) {
    return badRequest(res, `ssh-keygen refuses the key: ${String(e.stderr || '').trim()}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Certificate settings that /test/cert-config changes and /test/reset restores.
const certConfig = { validity: DEFAULT_VALIDITY, principal: null };
function resetCertConfig() {
  certConfig.validity = DEFAULT_VALIDITY;
  certConfig.principal = null;
}
function certConfigView() {
  return { validity: certConfig.validity, principal: certConfig.principal };
}

// One principal, or several joined by commas (ssh-keygen -n takes a list).
const PRINCIPAL_RE = /^[A-Za-z0-9._@$-]{1,64}$/;
const PRINCIPALS_RE = /^[A-Za-z0-9._@$-]{1,64}(,[A-Za-z0-9._@$-]{1,64}){0,15}$/;
const VALIDITY_RE = /^[A-Za-z0-9:+-]{1,64}$/;

// An Ed25519 public key line: "ssh-ed25519 BASE64[ COMMENT]" (one trailing
// newline tolerated), the base64 canonical and decoding to exactly the wire
// blob string "ssh-ed25519" + string(32 bytes). Returns { blob, comment } or
// an error text.
const ED25519_BLOB_HEAD = Buffer.concat([
  Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]),
]);
function parseEd25519(text) {
  if (typeof text !== 'string') return 'the key must be a string';
  const line = text.replace(/\r?\n$/, '');
  const m = /^ssh-ed25519 ([A-Za-z0-9+/]+={0,2})(?: +([^\x00-\x1f\x7f]*))?$/.exec(line);
  if (!m) return 'the key must be one line "ssh-ed25519 BASE64 [comment]"';
  const raw = Buffer.from(m[1], 'base64');
  if (raw.toString('base64') !== m[1]) return 'the key\'s base64 is not canonical';
  if (raw.length !== ED25519_BLOB_HEAD.length + 32
      || !raw.subarray(0, ED25519_BLOB_HEAD.length).equals(ED25519_BLOB_HEAD)) {
    return 'the key is not an Ed25519 public key blob';
  }
  return { blob: m[1], comment: (m[2] || '').trim() };
}

// Signs "ssh-ed25519 BLOB" as a user certificate. Returns
// { type, body, serial } ("ssh-ed25519-cert-v01@openssh.com", base64, number).
// Synchronous, so requests never share the scratch files.
function signKey(blob, username, principals, validity, serial) {
  const req = path.join(caDir, 'req.pub');
  const cert = path.join(caDir, 'req-cert.pub');
  fs.writeFileSync(req, `ssh-ed25519 ${blob} apitoken-request\n`, { mode: 0o600 });
  try {
    sshKeygen([
      '-q', '-s', path.join(caDir, 'ca'),
      '-I', `apitoken:${username}:${serial}`,
      '-n', principals,
      '-V', validity,
      '-z', String(serial),
      req,
    ]);
    const [type, body] = fs.readFileSync(cert, 'utf8').trim().split(' ');
    return { type, body, serial };
  } finally {
    fs.rmSync(req, { force: true });
    fs.rmSync(cert, { force: true });
  }
}

// Issues a certificate for the token's username (or the configured override).
// Returns the signed cert, or { refused: text } when the token cannot have one.
function certify(token, blob) {
  const username = token.extra && token.extra.username;
  if (typeof username !== 'string' || !PRINCIPAL_RE.test(username)) {
    return { refused: 'the token\'s username cannot be an SSH principal' };
  }
  const serial = nextSerial;
  const signed = signKey(blob, username, certConfig.principal || username,
    certConfig.validity, serial);
  nextSerial += 1;
  stats.certs += 1;
  return signed;
}

function mediaType(req) {
  return (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
}

function bearer(req) {
  const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization || '');
  return m ? m[1] : undefined;
}

function methodNotAllowed(res, allow) {
  res.setHeader('Allow', allow);
  sendJson(res, 405, { error: 'method not allowed' });
}

// GET /ssh/authority and GET /ssh/cert/authority (cert_url + "/authority").
function authority(req, res) {
  if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
  stats.authority += 1;
  const answer = { authorities: [caPublic] };
  const host = hostAuthoritiesOverride === undefined ? [hostCaPublic] : hostAuthoritiesOverride;
  if (host !== OMIT) answer.host_authorities = host;
  return sendJson(res, 200, answer);
}

// POST /ssh/cert: the "apitoken" protocol. The bearer is checked first, so a
// bad token is 401 whatever the body.
async function sshCert(provider, req, res) {
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  stats.cert_requests += 1;
  const text = await readBody(req);

  const token = await activeToken(provider, bearer(req));
  if (!token) {
    res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    return sendJson(res, 401, { error: 'invalid_token' });
  }
  if (mediaType(req) !== 'application/json') {
    return sendJson(res, 415, {
      error: 'invalid_request', error_description: 'the body must be application/json',
    });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return badRequest(res, 'the body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return badRequest(res, 'the body must be a JSON object');
  }
  const key = parseEd25519(body.key);
  if (typeof key === 'string') return badRequest(res, key);

  const signed = certify(token, key.blob);
  if (signed.refused) {
    return sendJson(res, 403, { error: 'access_denied', error_description: signed.refused });
  }
  const comment = key.comment ? ` ${key.comment}` : '';
  return sendJson(res, 200, { certificate: `${signed.type} ${signed.body}${comment}` });
}

// POST (or PUT) /v1/MOUNT/sign/ROLE: the "vault" protocol. Any mount and role.
async function vaultSign(provider, req, res) {
  const vaultError = (status, message) => sendJson(res, status, { errors: [message] });
  if (req.method !== 'POST' && req.method !== 'PUT') {
    res.setHeader('Allow', 'POST, PUT');
    return vaultError(405, 'unsupported operation');
  }
  stats.cert_requests += 1;
  const text = await readBody(req);

  const header = req.headers['x-vault-token'];
  const token = await activeToken(provider, typeof header === 'string' ? header.trim() : undefined);
  if (!token) return vaultError(403, 'permission denied');

  // Vault reads a JSON body whatever its Content-Type.
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return vaultError(400, 'failed to parse JSON input');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return vaultError(400, 'failed to parse JSON input');
  }
  const certType = body.cert_type === undefined ? 'user' : body.cert_type;
  if (certType !== 'user') return vaultError(400, 'cert_type must be "user"');
  if (body.public_key === undefined || body.public_key === '') {
    return vaultError(400, 'missing public_key');
  }
  const key = parseEd25519(body.public_key);
  if (typeof key === 'string') return vaultError(400, key);

  const signed = certify(token, key.blob);
  if (signed.refused) return vaultError(400, signed.refused);
  return sendJson(res, 200, {
    data: {
      serial_number: signed.serial.toString(16),
      signed_key: `${signed.type} ${signed.body}\n`,
    },
  });
}

// POST /oauth2/token: grant_type=api_token, the exchange of §8. Client
// authentication is "Basic base64(client_id:)"; any client_id, any secret.
async function exchange(provider, req, res) {
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  stats.exchanges += 1;
  const text = await readBody(req);

  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(req.headers.authorization || '');
  const credentials = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  const colon = credentials.indexOf(':');
  if (colon < 1) {
    res.setHeader('WWW-Authenticate', 'Basic realm="apitoken-test"');
    return sendJson(res, 401, {
      error: 'invalid_client', error_description: 'Basic client authentication is required',
    });
  }
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    return badRequest(res, 'the body must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(text);
  const grantType = form.get('grant_type');
  if (!grantType) return badRequest(res, 'grant_type is required');
  if (grantType !== 'api_token') return sendJson(res, 400, { error: 'unsupported_grant_type' });
  if (!form.get('api_token')) return badRequest(res, 'api_token is required');

  const token = await activeToken(provider, form.get('api_token'));
  if (!token) return sendJson(res, 400, { error: 'invalid_grant' });

  const client = await provider.Client.find(token.clientId);
  const value = await issueToken(provider, {
    accountId: token.accountId,
    client,
    scope: token.scope,
    ttl: EXCHANGE_TTL,
    claims: { ...(token.extra || {}) },
    gty: 'api_token',
  });
  return sendJson(res, 200, { access_token: value, expires_in: EXCHANGE_TTL, token_type: 'bearer' });
}

// GET /account: UpCloud's GET /1.3/account, the shape of a platform's own
// check of its tokens (verify = userinfo): the account of an active Bearer
// token, else UpCloud's 401.
async function account(provider, req, res) {
  if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
  stats.accounts += 1;
  await readBody(req).catch(() => '');
  const token = await activeToken(provider, bearer(req));
  if (!token) {
    return sendJson(res, 401, {
      error: {
        error_code: 'AUTHENTICATION_FAILED',
        error_message: 'Authentication failed using the given username and password.',
      },
    });
  }
  const username = token.extra && token.extra.username;
  return sendJson(res, 200, {
    account: {
      credits: 10000,
      username,
      resource_limits: { cores: 100, memory: 307200 },
    },
  });
}

async function sshRoute(provider, req, res, urlPath) {
  if (urlPath === '/account') return account(provider, req, res);
  if (urlPath === '/ssh/authority' || urlPath === '/ssh/cert/authority') return authority(req, res);
  if (urlPath === '/ssh/cert') return sshCert(provider, req, res);
  if (urlPath === '/oauth2/token') return exchange(provider, req, res);
  return vaultSign(provider, req, res);
}

function isSshRoute(urlPath) {
  return urlPath === '/account' || urlPath === '/ssh/authority' || urlPath === '/ssh/cert/authority'
    || urlPath === '/ssh/cert' || urlPath === '/oauth2/token'
    || /^\/v1\/[A-Za-z0-9_.-]+\/sign\/[A-Za-z0-9_.-]+$/.test(urlPath);
}

// POST /test/cert-config (form or JSON): validity and principal for later
// certificates; an absent or empty field returns to its default.
async function setCertConfig(req, res) {
  const text = await readBody(req);
  let fields;
  if (mediaType(req) === 'application/json') {
    try {
      fields = JSON.parse(text);
    } catch {
      fields = null;
    }
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      return badRequest(res, 'the body must be a JSON object');
    }
  } else {
    fields = Object.fromEntries(new URLSearchParams(text));
    // A raw "validity=-1m:+5m" form body decodes "+" as a space; an interval
    // never holds a space, so take it back as the "+" that was meant.
    if (typeof fields.validity === 'string') fields.validity = fields.validity.replace(/ /g, '+');
  }
  const validity = fields.validity === undefined || fields.validity === null || fields.validity === ''
    ? DEFAULT_VALIDITY : fields.validity;
  const principal = fields.principal === undefined || fields.principal === null || fields.principal === ''
    ? null : fields.principal;
  if (typeof validity !== 'string' || !VALIDITY_RE.test(validity)) {
    return badRequest(res, 'validity must be an ssh-keygen -V interval such as -1m:+5m');
  }
  if (principal !== null && (typeof principal !== 'string' || !PRINCIPALS_RE.test(principal))) {
    return badRequest(res, 'principal must be a user name (or a comma-separated list)');
  }
  // Let ssh-keygen judge the interval now (signing the CA's own public key),
  // rather than failing the next certificate request.
  const probe = path.join(caDir, 'probe.pub');
  fs.writeFileSync(probe, `${caPublic}\n`, { mode: 0o600 });
  try {
    sshKeygen(['-q', '-s', path.join(caDir, 'ca'), '-I', 'probe', '-V', validity, probe]);
  } catch (e) {
    return badRequest(res, `ssh-keygen refuses the validity: ${String(e.stderr || '').trim()}`);
  } finally {
    fs.rmSync(probe, { force: true });
    fs.rmSync(path.join(caDir, 'probe-cert.pub'), { force: true });
  }
  certConfig.validity = validity;
  certConfig.principal = principal;
  return sendJson(res, 200, certConfigView());
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
    const urlPath = (req.url || '/').split('?')[0];
    const fail = (e) => {
      console.error(`${urlPath} error:`, e);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      else res.destroy();
    };
    if (urlPath.startsWith('/test/')) {
      testRoute(provider, req, res, urlPath).catch(fail);
      return;
    }
    if (isSshRoute(urlPath)) {
      sshRoute(provider, req, res, urlPath).catch(fail);
      return;
    }
    if (req.method === 'POST' && urlPath === '/token/introspection') stats.introspections += 1;
    if (req.method === 'POST' && urlPath === '/token/revocation') stats.revocations += 1;
    if (urlPath === '/me') stats.userinfo += 1;
    handler(req, res);
  });
  manage(server);
  // After manage(): a signal from here on ends through process.exit, whose
  // 'exit' hook removes the CA's directory.
  setupCa();

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
