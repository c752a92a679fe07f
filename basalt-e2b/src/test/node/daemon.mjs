// Starts a real basaltd (the jar bin/test's Maven run built) with its E2B API on a free loopback
// port, in private run/state/shm directories, with the test image as E2B's "base" template, and
// points E2B's SDK at it (E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY). Its sandboxes' network
// (E2B's default is internet access) is a test-made internet: basalt-net's FakeInternet, in
// namespaces of its own (203.0.113.0/24; allowed.test and other.test are two HTTP servers there),
// so no test traffic leaves the machine. cleanUp() kills the daemon, its sandboxes' VMs and that
// internet, and removes every directory it made.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { before, after } from 'node:test'
import { Sandbox } from 'e2b'

const here = dirname(fileURLToPath(import.meta.url))
export const repo = resolve(here, '../../../..')
export const API_KEY = 'e2b-test-key-' + Math.random().toString(36).slice(2) + 'x'.repeat(8)

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)) })
  })
}

/**
 * A test-made internet: basalt-net's FakeInternetProcess (its test classes, beside the daemon's jar
 * and libraries), kept until stop() or until this process ends (its stdin closes).
 */
async function startInternet(root) {
  const cp = [join(repo, 'basalt-server', 'target', 'basalt-server.jar'), join(repo, 'basalt-net', 'target', 'test-classes')]
  if (!existsSync(join(cp[1], 'dev', 'basalt', 'net', 'FakeInternetProcess.class'))) {
    throw new Error(`${cp[1]} has no FakeInternetProcess: build basalt-net's tests first (Maven test-compile)`)
  }
  const { openSync } = await import('node:fs')
  const log = join(root, 'internet.log')
  const child = spawn(java(), ['--enable-native-access=ALL-UNNAMED', '-Dslf4j.provider=org.slf4j.helpers.NOP_FallbackServiceProvider', '-cp', cp.join(':'),
    'dev.basalt.net.FakeInternetProcess', join(root, 'internet'), 'allowed.test=203.0.113.10', 'other.test=203.0.113.11'],
  { stdio: ['pipe', 'pipe', openSync(log, 'a')] })
  const exited = new Promise(ok => child.once('exit', (code, signal) => ok({ code, signal })))
  let out = ''
  const params = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('the test internet did not start within 60 s')), 60_000)
    child.stdout.on('data', chunk => {
      out += chunk
      const line = out.split('\n').find(l => l.startsWith('{"prefix"'))
      if (line) { clearTimeout(timer); ok(JSON.parse(line)) }
    })
    exited.then(gone => { clearTimeout(timer); fail(new Error(`the test internet exited (${JSON.stringify(gone)}): ${readFileSync(log, 'utf8')}`)) })
  })
  child.stdout.resume()
  return {
    ...params,
    args: ['--net-prefix', params.prefix, '--net-host-namespace', params.hostNs, '--net-uplink', params.uplink,
      '--net-dns', params.dns, '--net-slots', '16'],
    async stop() {
      child.stdin.end()
      const done = await Promise.race([exited, new Promise(ok => setTimeout(() => ok(null), 30_000))])
      if (!done) { child.kill('SIGKILL'); await exited }
    },
  }
}

function java() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
}

/**
 * A basaltd process; `dirs` (with its internet) may be reused by a second daemon (a restart).
 * `internet: false`: no test internet, and no --net-* options but those in `args`.
 */
export async function startDaemon({ dirs, port, args = [], internet = true } = {}) {
  const images = process.env.BASALT_E2B_IMAGES
  if (!images) throw new Error('BASALT_E2B_IMAGES is not set: run this suite through basalt-e2b/src/test/node/run.sh')
  const jar = join(repo, 'basalt-server', 'target', 'basalt-server.jar')
  if (!existsSync(jar)) throw new Error(`${jar} is missing: build basalt-server first`)
  if (!dirs) {
    const root = mkdtempSync(join(tmpdir(), 'basalt-e2b-'))
    writeFileSync(join(root, 'keys'), API_KEY + '\n', { mode: 0o600 })
    dirs = { root, shm: '/dev/shm/' + root.split('/').pop() }
    try {
      if (internet) dirs.internet = await startInternet(root)
    } catch (e) {
      rmSync(root, { recursive: true, force: true })
      throw e
    }
  }
  port = port ?? await freePort()
  const log = join(dirs.root, `daemon-${Date.now()}.log`)
  const { openSync } = await import('node:fs')
  const out = openSync(log, 'a')
  const child = spawn(java(), ['--enable-native-access=ALL-UNNAMED', '-jar', jar,
    '--socket', join(dirs.root, 'basaltd.sock'), '--run-dir', join(dirs.root, 'run'),
    '--state-dir', join(dirs.root, 'state'), '--shm-dir', dirs.shm, '--images', images,
    '--e2b-port', String(port), '--e2b-api-key-file', join(dirs.root, 'keys'),
    '--e2b-template', 'base=e2b-base', ...(dirs.internet?.args ?? []), ...args], { stdio: ['ignore', out, out], detached: true })
  const exited = new Promise(ok => child.once('exit', (code, signal) => ok({ code, signal })))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    const gone = await Promise.race([exited, new Promise(ok => setTimeout(() => ok(null), 200))])
    if (gone) throw new Error(`basaltd exited (${JSON.stringify(gone)}) before serving; its log:\n${readFileSync(log, 'utf8')}`)
    try {
      const res = await fetch(url + '/health')
      if (res.ok) break
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('basaltd did not serve within 60 s') }
  }
  process.env.E2B_API_URL = url
  process.env.E2B_SANDBOX_URL = url
  process.env.E2B_API_KEY = API_KEY
  return {
    url, port, dirs, log, pid: child.pid,
    /** Stops this basaltd (SIGTERM, then SIGKILL); its sandboxes keep running, as in production. */
    async stopProcess(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      const done = await Promise.race([exited, new Promise(ok => setTimeout(() => ok(null), 20_000))])
      if (!done) { child.kill('SIGKILL'); await exited }
    },
  }
}

/** Kills every VM the daemon's run directory names, then its internet, then removes all its directories. */
export async function cleanUp(daemon) {
  if (!daemon) return
  await daemon.stopProcess()
  const { readdirSync, readFileSync: read } = await import('node:fs')
  const run = join(daemon.dirs.root, 'run')
  if (existsSync(run)) {
    for (const name of readdirSync(run)) {
      const owner = join(run, name, 'owner.json')
      if (!existsSync(owner)) continue
      let pid
      try { pid = JSON.parse(read(owner, 'utf8')).vmmPid } catch { continue }
      try {
        const cmdline = read(`/proc/${pid}/cmdline`, 'utf8')
        if (cmdline.includes(join(run, name))) process.kill(pid, 'SIGKILL')
      } catch { /* gone already */ }
    }
  }
  await daemon.dirs.internet?.stop()   // deletes every namespace of its prefix: the slots too
  rmSync(daemon.dirs.root, { recursive: true, force: true })
  rmSync(daemon.dirs.shm, { recursive: true, force: true })
}

/**
 * For a test file: one daemon for all its tests (started before them, cleaned up after), and
 * `create(opts)`, a Sandbox.create with a 5-minute timeout whose sandboxes are killed at the end.
 */
export function daemonPerFile(options) {
  const made = []
  const file = {
    daemon: null,
    async create(opts) {
      const s = await Sandbox.create({ timeoutMs: 300_000, ...opts })
      made.push(s)
      return s
    },
  }
  before(async () => { file.daemon = await startDaemon(options) })
  after(async () => {
    for (const s of made) await s.kill().catch(() => {})
    await cleanUp(file.daemon)
  })
  return file
}
