#!/usr/bin/env node
// Makes a fresh machine ready for `npm test` / `npm run demo`: npm dependencies, the redis-server and
// PostgreSQL binaries (installed with apt-get when running as root, else one line saying what to
// install), then the build. Plain Node with no dependencies: it runs before node_modules exists.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';

const mode = process.argv[2] ?? 'test';
const say = (msg) => process.stderr.write(`[prepare] ${msg}\n`);

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function hasPostgresServer() {
  const root = '/usr/lib/postgresql';
  if (existsSync(root) && readdirSync(root).some((v) => existsSync(`${root}/${v}/bin/initdb`))) return true;
  return has('initdb');
}

function run(cmd) {
  say(cmd);
  execSync(cmd, { stdio: 'inherit' });
}

// 1. npm dependencies
const stamp = 'node_modules/.package-lock.json';
if (!existsSync(stamp) || statSync('package-lock.json').mtimeMs > statSync(stamp).mtimeMs) {
  run('npm install --no-audit --no-fund');
}

// 2. system binaries (PostgreSQL is not needed for tests pointed at an existing DATABASE_URL)
const missing = [];
if (!has('redis-server')) missing.push('redis-server');
// The tests make throwaway TLS certificates with the openssl command.
if (mode === 'test' && !has('openssl')) missing.push('openssl');
// DNS tests: a real BIND9 for RFC 2136 updates, dig for the built-in responder.
if (mode === 'test' && !has('named') && !existsSync('/usr/sbin/named')) missing.push('bind9');
if (mode === 'test' && !has('dig')) missing.push('bind9-dnsutils');
// Console tests and bench:console drive Debian's Chromium.
if ((mode === 'test' || mode === 'console') && !existsSync('/usr/bin/chromium')) missing.push('chromium');
// The fault-injection suite: network namespaces (iproute2), nftables rules, setpriv, faketime.
if (mode === 'chaos' || mode === 'test') {
  if (!has('ip')) missing.push('iproute2');
  if (!has('nft')) missing.push('nftables');
  if (!has('iptables')) missing.push('iptables');
  if (!has('faketime')) missing.push('faketime');
  if (!has('setpriv')) missing.push('util-linux');
}
// Sentinel client matrix: Debian's redis-py for the system python3 (tests and bench:clients).
if ((mode === 'test' || mode === 'clients') && spawnSync('/usr/bin/python3', ['-c', 'import redis.sentinel'], { stdio: 'ignore' }).status !== 0) {
  missing.push('python3-redis');
}
// bench:dns measures Vigil's responder and BIND9 with dnsperf; bench:rest drives the API with wrk.
if (mode === 'dns') {
  if (!has('dnsperf')) missing.push('dnsperf');
  if (!has('named') && !existsSync('/usr/sbin/named')) missing.push('bind9');
}
if (mode === 'rest' && !has('wrk')) missing.push('wrk');
// docker-compose.yml is checked with Debian's docker-compose (`config -q`; no engine is needed).
if (mode === 'test' && !has('docker-compose')) missing.push('docker-compose');
if (!hasPostgresServer() && !(mode === 'test' && process.env.DATABASE_URL)) missing.push('postgresql');
if (missing.length > 0) {
  const isRoot = process.getuid?.() === 0;
  if (isRoot && has('apt-get')) {
    run('apt-get update -qq');
    run(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`);
  } else {
    console.error(`missing ${missing.join(', ')}: install with \`sudo apt-get install -y ${missing.join(' ')}\``);
    process.exit(1);
  }
}

// 3. build (incremental: quick when nothing changed)
run('npm run --silent build');
