'use strict';
// Fault server for pam_apitoken tests: answers every request according to its
// path, playing what no real issuer does (hangs, slow bodies, bad JSON, odd
// status codes...). Plain node http, no dependencies. See README.md.
//
//   node tests/fault/server.js [--port N]
//
// Listens on 127.0.0.1 only (port 0 = the OS picks one), prints exactly one
// line "listening <port>" on stdout when ready, and exits on SIGTERM/SIGINT and
// when its stdin reaches EOF (a test holds a pipe to stdin, so the server dies
// with the test).

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const { parsePort, manage, announce } = require('../support/loopback.js');

const MAX_BODY = 1024 * 1024;
const SLOW_BODY = '{"active":true,"username":"alice"}';
const ADMIN_PATHS = new Set(['/stats', '/last', '/reset', '/tls-listen']);

// ---------------------------------------------------------------- state

let requests = 0;
let last = {};
let switchStatus = 0; // /switch/...: 0 = answer the JSON, else this status

// ---------------------------------------------------------------- helpers

function send(res, status, type, body, extraHeaders = {}) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const headers = { 'Content-Length': buf.length, 'Cache-Control': 'no-store', ...extraHeaders };
  if (type) headers['Content-Type'] = type;
  res.writeHead(status, headers);
  res.end(buf);
}

function json(res, status, obj, extraHeaders) {
  send(res, status, 'application/json', JSON.stringify(obj), extraHeaders);
}

function b64url(s) {
  return Buffer.from(s, 'utf8').toString('base64url');
}

// Strict base64url, padding optional.
function decodeB64url(s) {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) return null;
  const bare = s.replace(/=+$/, '');
  if (bare.length % 4 === 1) return null;
  return Buffer.from(bare, 'base64url');
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

// ---------------------------------------------------------------- routes

function slow(req, res) {
  const body = Buffer.from(SLOW_BODY, 'utf8');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.flushHeaders();
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) {
      clearInterval(timer);
      return;
    }
    res.write(body.subarray(i, i + 1));
    i += 1;
    if (i >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }, 1000);
  timer.unref();
  res.on('close', () => clearInterval(timer));
}

// The form field token=..., for /pertoken.
function formToken(body) {
  return new URLSearchParams(body.toString('utf8')).get('token') || '';
}

function route(req, res, path, port, body) {
  let m;
  if (path === '/pertoken') {
    // One endpoint whose answer depends on the token, for backoff scoping tests.
    const tok = formToken(body);
    if (tok.includes('fail500')) json(res, 500, { error: 'x' });
    else if (tok.includes('ratelimit')) json(res, 429, { error: 'x' }, { 'Retry-After': '30' });
    else if (tok.includes('hang')) return;
    else json(res, 200, { active: true, username: 'alice' });
    return;
  }
  if (path === '/hang') {
    return; // the body has been read; never answer
  }
  if (path === '/slow') {
    slow(req, res);
    return;
  }
  if ((m = /^\/status\/(\d{3})$/.exec(path))) {
    const code = Number(m[1]);
    if (code < 200 || code > 599) {
      json(res, 400, { error: 'status must be 200..599' });
      return;
    }
    json(res, code, { error: 'x' });
    return;
  }
  if (path === '/ratelimit') {
    json(res, 429, { error: 'x' }, { 'Retry-After': '30' });
    return;
  }
  if (path === '/ratelimit-date') {
    const when = new Date(Date.now() + 45 * 1000).toUTCString();
    json(res, 429, { error: 'x' }, { 'Retry-After': when });
    return;
  }
  if (path === '/ratelimit-far') {
    // Longer than any backoff we keep, in both forms: seconds and a date.
    json(res, 429, { error: 'x' }, { 'Retry-After': '999999999' });
    return;
  }
  if (path === '/ratelimit-date-far') {
    const when = new Date(Date.now() + 30 * 86400 * 1000).toUTCString();
    json(res, 429, { error: 'x' }, { 'Retry-After': when });
    return;
  }
  if (path === '/truncated') {
    send(res, 200, 'application/json', '{"active":true,"username":"ali');
    return;
  }
  if (path === '/truncated-conn') {
    // Declares more bytes than it sends, then drops the connection.
    const part = '{"active":true,"username":"ali';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': part.length + 20 });
    res.write(part, () => res.destroy());
    return;
  }
  if (path === '/empty') {
    send(res, 200, 'application/json', '');
    return;
  }
  if (path === '/html') {
    send(res, 200, 'text/html; charset=utf-8',
      '<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n'
      + '<body><h1>Please sign in</h1><form method="post"><input name="user"></form></body></html>\n');
    return;
  }
  if (path === '/dupkeys') {
    send(res, 200, 'application/json', '{"active":true,"username":"alice","username":"bob"}');
    return;
  }
  if (path === '/redirect') {
    const location = `http://127.0.0.1:${port}/json/${b64url('{"active":true}')}`;
    send(res, 302, 'application/json', '{}', { Location: location });
    return;
  }
  if (path === '/huge') {
    const body = JSON.stringify({ active: true, username: 'alice', padding: 'x'.repeat(70000) });
    send(res, 200, 'application/json', body);
    return;
  }
  if ((m = /^\/auth\/([^/]*)$/.exec(path))) {
    // A server that compares the Authorization header as sent: exactly the
    // decoded value (empty: no header at all) is 200, anything else 401.
    const want = decodeB64url(m[1]);
    if (want === null) {
      json(res, 400, { error: 'bad base64url' });
      return;
    }
    const got = req.headers.authorization;
    const ok = want.length === 0 ? got === undefined : got === want.toString('utf8');
    if (ok) json(res, 200, { active: true, username: 'alice' });
    else json(res, 401, { error: 'invalid_client' });
    return;
  }
  if ((m = /^\/switch\/([^/]*)$/.exec(path)) && switchStatus !== 0) {
    json(res, switchStatus, { error: 'x' });
    return;
  }
  if ((m = /^\/(?:json|switch)\/([^/]*)$/.exec(path))) {
    const body = decodeB64url(m[1]);
    if (body === null) {
      json(res, 400, { error: 'bad base64url' });
      return;
    }
    send(res, 200, 'application/json', body);
    return;
  }
  json(res, 404, { error: 'x' });
}

// POST /tls-listen with the form cert=PATH&key=PATH (PEM files) and
// optionally client_cert=yes: the same routes over TLS on another loopback
// port, for tests of TLS failures.
function tlsListen(res, body, handler) {
  const form = new URLSearchParams(body.toString('utf8'));
  let options;
  try {
    options = { cert: fs.readFileSync(form.get('cert') || ''), key: fs.readFileSync(form.get('key') || '') };
    // client_cert=yes: a client certificate is required (and none is trusted).
    if (form.get('client_cert') === 'yes') {
      options.requestCert = true;
      options.rejectUnauthorized = true;
    }
  } catch (e) {
    json(res, 400, { error: e.message });
    return;
  }
  // Each one lives as long as the process (which exits with the test).
  const tls = https.createServer(options, handler);
  tls.on('error', (e) => json(res, 500, { error: e.message }));
  tls.listen(0, '127.0.0.1', () => json(res, 200, { tls_port: tls.address().port }));
}

function admin(req, res, path, body, handler) {
  let m;
  if (path === '/tls-listen') {
    tlsListen(res, body, handler);
    return;
  }
  if ((m = /^\/switch-status\/(\d{1,3})$/.exec(path))) {
    switchStatus = Number(m[1]);
    json(res, 200, { switch_status: switchStatus });
    return;
  }
  if (path === '/stats') {
    json(res, 200, { requests });
    return;
  }
  if (path === '/last') {
    json(res, 200, last);
    return;
  }
  // /reset
  requests = 0;
  last = {};
  switchStatus = 0;
  json(res, 200, { requests });
}

// ---------------------------------------------------------------- main

function main() {
  const port = parsePort(process.argv.slice(2));

  let actual = 0;
  const handler = (req, res) => {
    const url = req.url || '/';
    const path = url.split('?')[0];
    const isAdmin = ADMIN_PATHS.has(path) || path.startsWith('/switch-status/');
    if (!isAdmin) requests += 1;
    readBody(req).then((body) => {
      if (isAdmin) {
        admin(req, res, path, body, handler);
        return;
      }
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
      last = { method: req.method, path, url, headers, body: body.toString('utf8') };
      route(req, res, path, actual, body);
    });
  };
  const server = http.createServer(handler);
  // Never time out held connections (the client decides when to give up).
  server.timeout = 0;
  manage(server);
  server.on('error', (e) => {
    console.error('server.js:', e.message);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    actual = server.address().port;
    announce(actual);
  });
}

main();
