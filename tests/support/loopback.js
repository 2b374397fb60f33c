'use strict';
// The life cycle the test servers share (tests/idp, tests/fault): a port from
// --port N (0 = the OS picks), 127.0.0.1 only, one line "listening PORT" on
// stdout when ready, and exit on SIGTERM/SIGINT/SIGHUP or when stdin reaches
// EOF — a test holds a pipe to our stdin, so we die with it and nothing is
// left running.

const fs = require('node:fs');

function usage(msg) {
  process.stderr.write(`server.js: ${msg}\nusage: node server.js [--port N]\n`);
  process.exit(2);
}

function parsePort(argv) {
  let port = 0;
  for (let i = 0; i < argv.length; i += 1) {
    let value;
    if (argv[i].startsWith('--port=')) {
      value = argv[i].slice('--port='.length);
    } else if (argv[i] === '--port') {
      i += 1;
      value = argv[i];
    } else {
      usage(`unknown argument ${argv[i]}`);
    }
    if (value === undefined || !/^\d+$/.test(value) || Number(value) > 65535) {
      usage(`bad port ${value}`);
    }
    port = Number(value);
  }
  return port;
}

function isDevNull(fd) {
  try {
    const st = fs.fstatSync(fd);
    const dn = fs.statSync('/dev/null');
    return st.isCharacterDevice() && st.rdev === dn.rdev;
  } catch {
    return false;
  }
}

// Tracks server's connections (to drop held ones on exit) and wires the exits.
function manage(server) {
  const sockets = new Set();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    for (const s of sockets) s.destroy();
    process.exit(0);
  };
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', stop);
  process.stdout.on('error', () => {});
  // A stdin of /dev/null (started in the background by a shell) carries no
  // lifeline; such a server is stopped with SIGTERM.
  if (!isDevNull(0)) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

function announce(port) {
  process.stdout.write(`listening ${port}\n`);
}

module.exports = { parsePort, manage, announce };
