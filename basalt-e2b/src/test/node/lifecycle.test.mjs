// The control API through E2B's SDK: create, getInfo, list with metadata and state filters and
// paging, setTimeout (the sandbox really expires), connect, kill, API keys.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, AuthenticationError, SandboxNotFoundError } from 'e2b'
import { request } from 'node:http'
import { daemonPerFile } from './daemon.mjs'

const file = daemonPerFile({ args: ['--e2b-domain', 'sandbox.test'] })
const create = opts => file.create(opts)

test('create answers what the SDK needs; getInfo shows template, metadata, times, size', async () => {
  const t0 = Date.now()
  const s = await create({ metadata: { app: 'lifecycle', owner: 'alice' } })
  assert.match(s.sandboxId, /^[a-z0-9]+$/)
  const info = await s.getInfo()
  assert.equal(info.sandboxId, s.sandboxId)
  assert.equal(info.templateId, 'base')
  assert.deepEqual(info.metadata, { app: 'lifecycle', owner: 'alice' })
  assert.equal(info.state, 'running')
  assert.equal(info.cpuCount, 1)
  assert.equal(info.memoryMB, 256)
  assert.ok(info.startedAt.getTime() >= t0 - 5000 && info.startedAt.getTime() <= Date.now())
  const ttl = info.endAt.getTime() - Date.now()
  assert.ok(ttl > 250_000 && ttl <= 300_000, `endAt is ${ttl} ms away`)
  assert.equal(await s.isRunning(), true)
})

test('list filters by metadata and state, and pages with nextToken', async () => {
  const tag = 'page-' + Date.now()
  const ids = []
  for (let i = 0; i < 3; i++) ids.push((await create({ metadata: { tag, n: String(i) } })).sandboxId)
  const all = await Sandbox.list({ query: { metadata: { tag } } }).nextItems()
  assert.deepEqual(all.map(s => s.sandboxId), [...ids].reverse())   // newest first
  const one = await Sandbox.list({ query: { metadata: { tag, n: '1' } } }).nextItems()
  assert.deepEqual(one.map(s => s.sandboxId), [ids[1]])
  assert.equal((await Sandbox.list({ query: { metadata: { tag, n: 'x' } } }).nextItems()).length, 0)
  assert.equal((await Sandbox.list({ query: { metadata: { tag }, state: ['paused'] } }).nextItems()).length, 0)

  const pager = Sandbox.list({ query: { metadata: { tag } }, limit: 2 })
  const first = await pager.nextItems()
  assert.equal(first.length, 2)
  assert.equal(pager.hasNext, true)
  const second = await pager.nextItems()
  assert.deepEqual([...first, ...second].map(s => s.sandboxId), [...ids].reverse())
  assert.equal(pager.hasNext, false)
})

test('setTimeout: the sandbox really expires, and is gone from the API', async () => {
  const s = await create()
  await s.setTimeout(3000)
  const info = await s.getInfo()
  assert.ok(info.endAt.getTime() - Date.now() <= 3000)
  const until = Date.now() + 30_000
  while (Date.now() < until && await s.isRunning().catch(() => false)) await new Promise(r => setTimeout(r, 500))
  assert.equal(await s.isRunning(), false)
  await assert.rejects(Sandbox.getInfo(s.sandboxId), e => e instanceof SandboxNotFoundError)
  assert.equal(await Sandbox.kill(s.sandboxId), false)
})

test('connect to a running sandbox: same id, a working envd, the time to live only extended', async () => {
  const s = await create()
  await s.files.write('/tmp/marker', 'still here')
  const again = await Sandbox.connect(s.sandboxId, { timeoutMs: 10_000 })
  assert.equal(again.sandboxId, s.sandboxId)
  assert.equal(await again.files.read('/tmp/marker'), 'still here')
  const info = await again.getInfo()
  assert.ok(info.endAt.getTime() - Date.now() > 200_000, 'a shorter connect timeout must not shorten the TTL')
  await Sandbox.connect(s.sandboxId, { timeoutMs: 900_000 })
  assert.ok((await again.getInfo()).endAt.getTime() - Date.now() > 800_000)
})

test('kill: true, then false; the sandbox is gone for envd too', async () => {
  const s = await create()
  assert.equal(await s.kill(), true)
  assert.equal(await s.kill(), false)
  assert.equal(await s.isRunning(), false)
  await assert.rejects(Sandbox.connect(s.sandboxId), e => e instanceof SandboxNotFoundError)
})

test('a wrong or missing API key is refused with 401', async () => {
  await assert.rejects(Sandbox.create({ apiKey: 'not-the-right-key-at-all' }), e => e instanceof AuthenticationError)
  const res = await fetch(file.daemon.url + '/v2/sandboxes')
  assert.equal(res.status, 401)
  const body = await res.json()
  assert.equal(body.code, 401)
  assert.match(body.message, /API key/)
})

test('envd is also reached by Host: <port>-<id>.<domain> (wildcard DNS deployments)', async () => {
  const s = await create()
  await s.files.write('/tmp/by-host', 'routed by host')
  const get = (host, token = s.envdAccessToken) => new Promise((ok, fail) => {
    const req = request(`${file.daemon.url}/files?path=/tmp/by-host`, { headers: { Host: host, 'X-Access-Token': token } }, res => {
      let body = ''
      res.on('data', c => { body += c })
      res.on('end', () => ok({ status: res.statusCode, body }))
    })
    req.on('error', fail)
    req.end()
  })
  assert.deepEqual(await get(`49983-${s.sandboxId}.sandbox.test`), { status: 200, body: 'routed by host' })
  assert.equal((await get(`49983-${s.sandboxId}.sandbox.test:443`)).status, 200)
  assert.equal((await get(`49983-${s.sandboxId}.sandbox.test`, 'wrong')).status, 401)
  assert.equal((await get(`8080-${s.sandboxId}.sandbox.test`)).status, 502)
  assert.equal((await get(`49983-${s.sandboxId}.other.domain`)).status, 401)   // not a sandbox host: the control API wants a key
})
