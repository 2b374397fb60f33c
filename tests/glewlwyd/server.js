'use strict';
// glewlwyd (Debian's package) as a second real issuer for the pam_apitoken
// tests, with the life cycle of tests/idp and tests/fault (see
// tests/support/loopback.js): started as `node tests/glewlwyd/server.js
// --port 0`, it prints one line "listening PORT" when glewlwyd is up and
// configured, and stops glewlwyd and removes everything it made on
// SIGTERM/SIGINT/SIGHUP or when its stdin reaches EOF. See README.md.
//
// Everything lives in one private temp dir: a sqlite database made from the
// schema the package ships, and a config file written here. glewlwyd runs
// as nobody (when we are root), bound to 127.0.0.1, with no systemd. The
// clients, user, scopes and OIDC plugin instances are made through its admin
// API, which hashes the passwords its own way (a direct sqlite insert would
// have to copy that format).

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { parsePort, announce } = require('../support/loopback.js');

const GLEWLWYD = '/usr/bin/glewlwyd';
const SCHEMA = '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3';
const MODULES = '/usr/lib/glewlwyd';
const ADMIN = { username: 'admin', password: 'password' }; // made by the schema
const START_MS = 10000;

// What the tests use (tests/integration/check_glewlwyd.c says the same).
const SECRET = 'gl+w/y=d%20 s3cret'; // every byte RFC 6749 §2.3.1 form-encodes
const CLIENT = {
  client_id: 'rs-glew',
  name: 'rs-glew',
  confidential: true,
  enabled: true,
  // A client_secret property is compared by glewlwyd as typed in HTTP Basic.
  client_secret: SECRET,
  token_endpoint_auth_method: ['client_secret_basic'],
  authorization_type: ['password', 'client_credentials', 'refresh_token'],
  scope: ['ssh', 'other', 'openid'],
  redirect_uri: ['http://127.0.0.1/unused'],
};
const USER = {
  username: 'alice',
  password: 'alice-glew-pw',
  enabled: true,
  scope: ['ssh', 'other', 'openid'],
};

function plugin(name, port, accessTtl) {
  return {
    module: 'oidc',
    name,
    display_name: name,
    enabled: true,
    parameters: {
      iss: `http://127.0.0.1:${port}`,
      'jwt-type': 'sha',
      'jwt-key-size': '256',
      key: `glewlwyd-test-key-${process.pid}-${Date.now()}`,
      'code-duration': 600,
      'refresh-token-duration': 3600,
      'access-token-duration': accessTtl,
      'allow-non-oidc': true,
      'auth-type-password-enabled': true,
      'auth-type-client-enabled': true,
      'auth-type-refresh-enabled': true,
      'auth-type-code-enabled': true,
      'introspection-revocation-allowed': true,
      'introspection-revocation-allow-target-client': true,
      'allowed-scope': ['openid', 'ssh', 'other'],
    },
  };
}

// ---------------------------------------------------------------- life cycle

let dir = null;
let child = null;
let stopping = false;

function cleanup() {
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL'); // exit hooks cannot wait: make sure it is gone
    } catch {
      // already gone
    }
  }
  if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
}
process.on('exit', cleanup);

// SIGTERM first so glewlwyd closes its database; SIGKILL after 2 s.
function stop(code) {
  if (stopping) return;
  stopping = true;
  if (child === null || child.exitCode !== null || child.signalCode !== null) {
    process.exit(code);
  }
  const t = setTimeout(() => process.exit(code), 2000);
  child.once('exit', () => {
    clearTimeout(t);
    process.exit(code);
  });
  child.kill('SIGTERM');
}

function fail(msg) {
  process.stderr.write(`glewlwyd/server.js: ${msg}\n`);
  stop(1);
}

function isDevNull(fd) {
  try {
    const st = fs.fstatSync(fd);
    return st.isCharacterDevice() && st.rdev === fs.statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => stop(0));
process.stdout.on('error', () => {});
if (!isDevNull(0)) {
  process.stdin.on('data', () => {});
  for (const ev of ['end', 'close', 'error']) process.stdin.on(ev, () => stop(0));
  process.stdin.resume();
}

// ---------------------------------------------------------------- helpers

// glewlwyd cannot be told port 0 and say which it got: ask the OS for a free
// one and hand it over. Another process could take it in between; then
// glewlwyd exits, we fail, and testenv's server_start tries once more.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function connects(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function admin(base, cookie, method, url, body) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { 'Content-Type': 'application/json', Cookie: cookie },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) {
    throw new Error(`${method} ${url}: HTTP ${res.status} ${await res.text()}`);
  }
  return res;
}

function config(port, db) {
  return `port=${port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:${port}"
login_url="login.html"
api_prefix="api"
cookie_secure=0
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES}/user"
client_module_path="${MODULES}/client"
user_auth_scheme_module_path="${MODULES}/scheme"
plugin_module_path="${MODULES}/plugin"
hash_algorithm="SHA512"
database =
{
  type = "sqlite3"
  path = "${db}"
};
`;
}

// ---------------------------------------------------------------- start

async function main() {
  if (parsePort(process.argv.slice(2)) !== 0) {
    // glewlwyd's port is ours to pick (see freePort); a fixed one is not needed.
    process.stderr.write('glewlwyd/server.js: only --port 0 is supported\n');
    process.exit(2);
  }
  for (const f of [GLEWLWYD, SCHEMA]) {
    if (!fs.existsSync(f)) return fail(`${f} is missing (tests/deps.sh installs glewlwyd)`);
  }
  const t0 = Date.now();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apitoken-glewlwyd-'));
  const db = path.join(dir, 'glewlwyd.db');
  const made = spawnSync('sqlite3', [db], { input: fs.readFileSync(SCHEMA), stdio: ['pipe', 'ignore', 'pipe'] });
  if (made.status !== 0) return fail(`sqlite3: ${made.stderr}`);
  const port = await freePort();
  const conf = path.join(dir, 'glewlwyd.conf');
  fs.writeFileSync(conf, config(port, db), { mode: 0o600 });

  // Unprivileged: root hands the directory to nobody and runs it as nobody.
  const opts = { stdio: ['ignore', 'ignore', 'inherit'] };
  if (process.getuid() === 0) {
    for (const f of [dir, db, conf]) fs.chownSync(f, 65534, 65534);
    opts.uid = 65534;
    opts.gid = 65534;
  }
  child = spawn(GLEWLWYD, ['-c', conf, '-m', 'console', '-l', 'WARNING'], opts);
  child.on('exit', (code, sig) => {
    if (!stopping) fail(`glewlwyd exited (${code ?? sig})`);
  });
  child.on('error', (e) => fail(`glewlwyd: ${e.message}`));

  while (!(await connects(port))) {
    if (stopping) return undefined;
    if (Date.now() - t0 > START_MS) return fail(`glewlwyd not listening after ${START_MS} ms`);
    await sleep(20);
  }

  const base = `http://127.0.0.1:${port}/api`;
  const login = await fetch(`${base}/auth/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const cookie = (login.headers.get('set-cookie') || '').split(';')[0];
  if (login.status !== 200 || cookie === '') return fail(`admin login: HTTP ${login.status}`);
  for (const name of ['ssh', 'other']) {
    await admin(base, cookie, 'POST', '/scope', { name, display_name: name, password_required: false, scheme: {} });
  }
  await admin(base, cookie, 'POST', '/user', USER);
  await admin(base, cookie, 'POST', '/client', CLIENT);
  // "oidc": tokens for an hour; "short": access tokens that expire in 4 s,
  // long enough for a loaded machine to log in once before that.
  await admin(base, cookie, 'POST', '/mod/plugin', plugin('oidc', port, 3600));
  await admin(base, cookie, 'POST', '/mod/plugin', plugin('short', port, 4));
  process.stderr.write(`glewlwyd/server.js: glewlwyd up and configured on ${port} in ${Date.now() - t0} ms\n`);
  announce(port);
  return undefined;
}

main().catch((e) => fail(e.message));
