// betaPause / Sandbox.connect through E2B's SDK: a paused sandbox has no VM and answers 502 from
// its envd; connect resumes it under the same id with its files and a process that kept running;
// a paused sandbox survives a restart of basaltd; kill removes it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox } from 'e2b'
import { startDaemon, cleanUp, API_KEY } from './daemon.mjs'

let daemon
const made = []
before(async () => { daemon = await startDaemon() })
after(async () => {
  for (const s of made) await Sandbox.kill(s.sandboxId).catch(() => {})
  await cleanUp(daemon)
})

async function create() {
  const s = await Sandbox.create({ timeoutMs: 600_000 })
  made.push(s)
  return s
}
const ticker = "setsid sh -c 'while :; do date +%s >> /root/ticks; sleep 1; done' < /dev/null > /dev/null 2>&1 &"
const ticks = async s => (await s.commands.run('wc -l < /root/ticks', { user: 'root' })).stdout.trim() | 0

test('betaPause, then Sandbox.connect: same id, the file and the running process are still there', async () => {
  const s = await create()
  await s.files.write('/tmp/kept.txt', 'written before the pause')
  await s.commands.run(ticker, { user: 'root' })
  await new Promise(r => setTimeout(r, 2000))
  assert.ok(await ticks(s) >= 1)

  assert.equal(await s.betaPause(), true)
  const info = await Sandbox.getInfo(s.sandboxId)
  assert.equal(info.state, 'paused')
  const paused = await Sandbox.list({ query: { state: ['paused'] } }).nextItems()
  assert.deepEqual(paused.map(p => p.sandboxId), [s.sandboxId])
  assert.equal(await s.isRunning(), false)
  await assert.rejects(s.commands.run('true'))
  assert.equal(await s.betaPause(), false)   // already paused: 409

  const back = await Sandbox.connect(s.sandboxId, { timeoutMs: 600_000 })
  assert.equal(back.sandboxId, s.sandboxId)
  assert.equal((await Sandbox.getInfo(s.sandboxId)).state, 'running')
  assert.equal(await back.files.read('/tmp/kept.txt'), 'written before the pause')
  const before = await ticks(back)
  await new Promise(r => setTimeout(r, 2500))
  assert.ok(await ticks(back) > before, 'the loop started before the pause ticks on')
  assert.equal((await back.commands.run('echo alive')).stdout, 'alive\n')
})

test('a sandbox with a command still streaming to a client is not paused: 409 with the reason', async () => {
  const s = await create()
  const h = await s.commands.run('sleep 600', { background: true })
  const res = await fetch(`${daemon.url}/sandboxes/${s.sandboxId}/pause`, { method: 'POST', headers: { 'X-API-KEY': API_KEY } })
  assert.equal(res.status, 409)
  assert.match((await res.json()).message, /in flight/)
  await h.kill()
  await new Promise(r => setTimeout(r, 500))
  assert.equal(await s.betaPause(), true)
  assert.equal(await Sandbox.kill(s.sandboxId), true)
  assert.ok(!(await Sandbox.list({ query: { state: ['paused', 'running'] } }).nextItems()).some(p => p.sandboxId === s.sandboxId))
})

test('a paused sandbox outlives basaltd: the next basaltd resumes it on connect', async () => {
  const s = await create()
  await s.files.write('/tmp/across.txt', 'across a restart')
  assert.equal(await s.betaPause(), true)
  await daemon.stopProcess()
  daemon = await startDaemon({ dirs: daemon.dirs, port: daemon.port })
  assert.equal((await Sandbox.getInfo(s.sandboxId)).state, 'paused')
  const back = await Sandbox.connect(s.sandboxId)
  assert.equal(await back.files.read('/tmp/across.txt'), 'across a restart')
})

test('autoPause: the timeout pauses the sandbox instead of removing it; connect resumes it', async () => {
  const s = await Sandbox.create({ timeoutMs: 3000, lifecycle: { onTimeout: 'pause' } })
  made.push(s)
  assert.equal((await s.getInfo()).lifecycle.onTimeout, 'pause')
  await s.files.write('/tmp/auto.txt', 'paused by its timeout')
  const until = Date.now() + 30_000
  while (Date.now() < until && (await Sandbox.getInfo(s.sandboxId)).state !== 'paused') await new Promise(r => setTimeout(r, 500))
  assert.equal((await Sandbox.getInfo(s.sandboxId)).state, 'paused')
  const back = await Sandbox.connect(s.sandboxId, { timeoutMs: 600_000 })
  assert.equal(await back.files.read('/tmp/auto.txt'), 'paused by its timeout')
  const info = await back.getInfo()
  assert.equal(info.state, 'running')
  assert.ok(info.endAt.getTime() - Date.now() > 500_000)
})
