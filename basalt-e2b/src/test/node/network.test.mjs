// A sandbox's network through E2B's SDK, against the test-made internet of daemon.mjs: create's
// allowInternetAccess and network rules become the sandbox's egress policy, and a server in the
// sandbox answers through sandbox.getHost(port) (by host name, and by the E2b-Sandbox-Port header).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { Sandbox, SandboxError, ServiceBusyError } from 'e2b'
import { startDaemon, cleanUp, daemonPerFile, API_KEY } from './daemon.mjs'

const file = daemonPerFile({ args: ['--e2b-domain', 'sandbox.test'] })
const create = opts => file.create(opts)

/** `wget` in the sandbox: its output, or the error it printed (no -T: the test image's busybox wget crashes with it). */
async function wget(s, url) {
  const r = await s.commands.run(`wget -q -O - ${url} 2>&1 || true`)
  return r.stdout
}

/** An HTTP request to basaltd's port with a Host header, as wildcard DNS would send it. */
function viaHost(host, path, { method = 'GET', body } = {}) {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: file.daemon.port, path, method, headers: { Host: host } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', c => { text += c })
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, text }))
    })
    req.on('error', fail)
    req.end(body)
  })
}

const byHeader = (s, port, path, init = {}) => fetch(file.daemon.url + path,
  { ...init, headers: { ...(init.headers ?? {}), 'E2b-Sandbox-Id': s.sandboxId, 'E2b-Sandbox-Port': String(port) } })

test('internet access by default, none with allowInternetAccess: false, lists with network rules', async () => {
  const open = await create()
  assert.match(await wget(open, 'http://allowed.test/'), /hello from allowed.test via 203.0.113.10/)
  assert.match(await wget(open, 'http://203.0.113.11/'), /hello from 203.0.113.11/)
  assert.equal((await open.getInfo()).allowInternetAccess, true)

  const offline = await create({ allowInternetAccess: false })
  assert.equal((await offline.commands.run('ls /sys/class/net')).stdout.trim(), 'lo')
  assert.equal((await offline.getInfo()).allowInternetAccess, false)

  const listed = await create({ network: { allowOut: ['allowed.test'], denyOut: ({ allTraffic }) => [allTraffic] } })
  assert.match(await wget(listed, 'http://allowed.test/'), /hello from allowed.test/)
  assert.match(await wget(listed, 'http://other.test/'), /bad address/)
  assert.deepEqual((await listed.getInfo()).network?.allowOut, ['allowed.test'])

  const denied = await create({ network: { denyOut: ['203.0.113.11'] } })
  assert.match(await wget(denied, 'http://allowed.test/'), /hello from allowed.test/)
  assert.doesNotMatch(await wget(denied, 'http://203.0.113.11/'), /hello/)
})

test('network rules Basalt cannot honour are refused with the reason', async () => {
  await assert.rejects(create({ network: { allowOut: ['203.0.113.10'], denyOut: ['203.0.113.0/24'] } }),
    e => e instanceof SandboxError && /^400/.test(e.message) && /exceptions inside the denied ranges/.test(e.message))
  await assert.rejects(create({ network: { denyOut: ['example.com'] } }),
    e => e instanceof SandboxError && /^400/.test(e.message) && /not domains/.test(e.message))
  await assert.rejects(create({ network: { allowPublicTraffic: false } }),
    e => e instanceof SandboxError && /^400/.test(e.message) && /allowPublicTraffic/.test(e.message))
  const res = await fetch(file.daemon.url + '/v2/sandboxes', {
    method: 'POST', headers: { 'X-API-KEY': API_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ templateID: 'base', network: { allowOut: ['*'], denyOut: ['0.0.0.0/0'] } }),
  })
  assert.equal(res.status, 400)
  assert.match((await res.json()).message, /network.allowOut: .*wildcard/)
})

test("a server in the sandbox answers through getHost(port); a closed port gets E2B's 502", async () => {
  const s = await create()
  const cgi = '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho method=$REQUEST_METHOD\\ncat\\n'
  const r = await s.commands.run('mkdir -p /tmp/w/cgi-bin && echo hello-from-the-guest > /tmp/w/index.html && '
    + `printf '${cgi}' > /tmp/w/cgi-bin/echo && chmod +x /tmp/w/cgi-bin/echo && httpd -p 8000 -h /tmp/w`, { user: 'root' })
  assert.equal(r.exitCode, 0)

  const host = s.getHost(8000)
  assert.equal(host, `8000-${s.sandboxId}.sandbox.test`)
  const page = await viaHost(host, '/index.html')
  assert.equal(page.status, 200)
  assert.equal(page.text, 'hello-from-the-guest\n')

  const again = await byHeader(s, 8000, '/index.html')
  assert.equal(again.status, 200)
  assert.equal(await again.text(), 'hello-from-the-guest\n')
  const posted = await byHeader(s, 8000, '/cgi-bin/echo', { method: 'POST', body: 'a posted body' })
  assert.equal(posted.status, 200)
  assert.equal(await posted.text(), 'method=POST\na posted body')
  assert.equal((await byHeader(s, 8000, '/missing.html')).status, 404)

  // a pause gives the network back; after connect the port is forwarded anew, and the server kept running
  assert.equal(await s.betaPause(), true)
  assert.match(JSON.parse((await viaHost(host, '/index.html')).text).message, /paused/)
  await Sandbox.connect(s.sandboxId)
  assert.equal((await viaHost(host, '/index.html')).text, 'hello-from-the-guest\n')

  const closed = await viaHost(s.getHost(3000), '/')
  assert.equal(closed.status, 502)
  const body = JSON.parse(closed.text)
  assert.equal(body.message, 'The sandbox is running but port is not open')
  assert.equal(body.sandboxId, s.sandboxId)
  assert.equal(body.port, 3000)
})

test('a sandbox without a network has no ports; a killed one is gone', async () => {
  const offline = await create({ allowInternetAccess: false })
  const res = await byHeader(offline, 8000, '/')
  assert.equal(res.status, 502)
  assert.match((await res.json()).message, /has no network interface/)

  const s = await create()
  await s.kill()
  const gone = await byHeader(s, 8000, '/')
  assert.equal(gone.status, 502)
  assert.match((await gone.json()).message, /not found/)
})

test('a basaltd that cannot network says so at create, and still makes sandboxes without internet access', async () => {
  const prefix = 'bn' + Math.random().toString(36).slice(2, 8)
  const netless = await startDaemon({ internet: false, args: ['--net-prefix', prefix, '--net-host-namespace', prefix + '-missing'] })
  try {
    await assert.rejects(Sandbox.create({ timeoutMs: 60_000 }), e => e instanceof ServiceBusyError
      && /sandbox networking cannot start/.test(e.message) && /allowInternetAccess: false/.test(e.message))
    const offline = await Sandbox.create({ timeoutMs: 60_000, allowInternetAccess: false })
    assert.equal((await offline.commands.run('echo ok')).stdout, 'ok\n')
    await offline.kill()
  } finally {
    await cleanUp(netless)
    process.env.E2B_API_URL = process.env.E2B_SANDBOX_URL = file.daemon.url   // the SDK again to this file's daemon
  }
})
