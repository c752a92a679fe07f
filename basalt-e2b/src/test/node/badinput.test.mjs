// Bad input gets a clear error in the shape E2B's SDK expects, and harms nothing: unknown ids,
// wrong tokens, malformed JSON and envelopes, unknown methods, bad templates and timeouts.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, SandboxNotFoundError, AuthenticationError, SandboxError } from 'e2b'
import { startDaemon, cleanUp, API_KEY } from './daemon.mjs'

let daemon, sbx, token
before(async () => {
  daemon = await startDaemon()
  sbx = await Sandbox.create({ timeoutMs: 600_000 })
  token = sbx.envdAccessToken
})
after(async () => {
  await sbx?.kill().catch(() => {})
  await cleanUp(daemon)
})

const api = (path, init = {}) => fetch(daemon.url + path, { ...init, headers: { 'X-API-KEY': API_KEY, ...init.headers } })
const envd = (path, init = {}, id = sbx.sandboxId) => fetch(daemon.url + path, {
  method: 'POST', ...init,
  headers: { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': '49983', 'X-Access-Token': token, ...init.headers },
})
const unary = (method, body, headers = {}) => envd('/' + method, {
  body, headers: { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1', ...headers },
})
function envelope(json, flags = 0) {
  const data = Buffer.from(json)
  const out = Buffer.alloc(5 + data.length)
  out[0] = flags
  out.writeUInt32BE(data.length, 1)
  data.copy(out, 5)
  return out
}
/** The envelopes of a streaming response, the last one parsed as end-of-stream. */
async function stream(method, body, headers = {}) {
  const res = await envd('/' + method, { body, headers: { 'Content-Type': 'application/connect+json', ...headers } })
  const buf = Buffer.from(await res.arrayBuffer())
  const messages = []
  for (let off = 0; off < buf.length;) {
    const flags = buf[off]
    const len = buf.readUInt32BE(off + 1)
    messages.push({ flags, json: JSON.parse(buf.subarray(off + 5, off + 5 + len).toString()) })
    off += 5 + len
  }
  return { status: res.status, type: res.headers.get('content-type'), messages, end: messages.at(-1) }
}

test('an unknown sandbox: 404 in E2B shape on the API, 502 from its envd', async () => {
  const res = await api('/sandboxes/nosuchsandbox1')
  assert.equal(res.status, 404)
  const body = await res.json()
  assert.equal(body.code, 404)
  assert.match(body.message, /nosuchsandbox1/)
  await assert.rejects(Sandbox.connect('nosuchsandbox1'), e => e instanceof SandboxNotFoundError)
  assert.equal(await Sandbox.kill('nosuchsandbox1'), false)
  assert.equal((await api('/sandboxes/Bad..ID')).status, 404)

  const gone = await envd('/files?path=/etc/hostname', { method: 'GET' }, 'nosuchsandbox1')
  assert.equal(gone.status, 502)
  assert.deepEqual(await gone.json(), { sandboxId: 'nosuchsandbox1', message: 'The sandbox was not found', code: 502 })
  const bad = await envd('/files?path=/etc/hostname', { method: 'GET' }, 'UPPER-case')
  assert.equal(bad.status, 400)
})

test('a wrong or missing access token: 401 (plain, unary and streaming), health needs none', async () => {
  const wrong = new Sandbox({ sandboxId: sbx.sandboxId, envdAccessToken: 'not-the-token', envdVersion: '0.5.7' })
  await assert.rejects(wrong.commands.run('true'), e => e instanceof AuthenticationError)
  await assert.rejects(wrong.files.read('/etc/hostname'), e => e instanceof AuthenticationError)
  await assert.rejects(wrong.files.list('/'), e => e instanceof AuthenticationError)
  assert.equal(await wrong.isRunning(), true)
  const res = await envd('/process.Process/List', { body: '{}', headers: { 'Content-Type': 'application/json', 'X-Access-Token': '' } })
  assert.equal(res.status, 401)
  assert.equal((await res.json()).code, 'unauthenticated')
})

test('malformed JSON, envelopes and headers get invalid_argument; nothing else happens', async () => {
  let res = await unary('process.Process/List', '{"oops"')
  assert.equal(res.status, 400)
  let body = await res.json()
  assert.equal(body.code, 'invalid_argument')
  assert.match(body.message, /malformed JSON/)

  res = await unary('filesystem.Filesystem/Stat', '{"path": 42}')
  assert.equal(res.status, 404)   // 42 is read as the path "42", which does not exist
  res = await unary('filesystem.Filesystem/ListDir', '{"path": "/", "depth": "many"}')
  assert.equal(res.status, 400)

  let s = await stream('process.Process/Start', Buffer.from([0, 0, 0]))
  assert.equal(s.status, 200)
  assert.equal(s.type, 'application/connect+json')
  assert.equal(s.messages.length, 1)
  assert.equal(s.end.flags, 2)
  assert.equal(s.end.json.error.code, 'invalid_argument')

  const huge = Buffer.alloc(5)
  huge.writeUInt32BE(0x7fffffff, 1)
  s = await stream('process.Process/Start', huge)
  assert.equal(s.end.json.error.code, 'invalid_argument')
  assert.match(s.end.json.error.message, /larger than the limit/)

  s = await stream('process.Process/Start', Buffer.concat([envelope('{}'), envelope('{}')]))
  assert.match(s.end.json.error.message, /more than one message/)
  s = await stream('process.Process/Start', envelope('{}', 1))
  assert.match(s.end.json.error.message, /compressed/)
  s = await stream('process.Process/Start', envelope('{"process": {"cmd": ""}}'))
  assert.equal(s.end.json.error.code, 'invalid_argument')
  s = await stream('process.Process/Start', envelope('{"process": {"cmd": "/no/such/program"}}'))
  assert.equal(s.end.json.error.code, 'not_found')
  s = await stream('process.Process/Connect', envelope('{"process": {"pid": 999999}}'))
  assert.equal(s.end.json.error.code, 'not_found')

  res = await unary('process.Process/List', '{}', { 'Connect-Timeout-Ms': 'soon' })
  assert.equal((await res.json()).code, 'invalid_argument')
  res = await unary('process.Process/List', '{}', { 'Connect-Protocol-Version': '2' })
  assert.equal(res.status, 400)
  res = await envd('/process.Process/List', { body: '{}', headers: { 'Content-Type': 'text/plain' } })
  assert.equal(res.status, 415)
  res = await unary('process.Process/SendSignal', '{"process": {"pid": 1}, "signal": "SIGNAL_SIGSTOP"}')
  assert.equal((await res.json()).code, 'not_found')   // pid 1 was not started through envd
  res = await unary('process.Process/SendInput', '{"process": {}}')
  assert.equal((await res.json()).code, 'invalid_argument')

  assert.equal((await sbx.commands.run('echo still fine')).stdout, 'still fine\n')
})

test('an unknown method or endpoint: unimplemented / 404', async () => {
  let res = await unary('process.Process/Explode', '{}')
  assert.equal(res.status, 501)
  assert.equal((await res.json()).code, 'unimplemented')
  const s = await stream('process.Process/StreamInput', envelope('{}'))
  assert.equal(s.end.json.error.code, 'unimplemented')
  res = await envd('/nothing/here', { method: 'GET' })
  assert.equal(res.status, 404)
  res = await api('/templates')
  assert.equal(res.status, 404)
  assert.equal((await res.json()).code, 404)
})

test('a template that does not exist, a timeout out of range, a malformed body: 400 with the reason', async () => {
  await assert.rejects(Sandbox.create('no-such-template'), e => e instanceof SandboxError && /400/.test(e.message) && /no-such-template/.test(e.message))
  await assert.rejects(Sandbox.create({ timeoutMs: 30 * 24 * 3600 * 1000 }), e => /400/.test(e.message) && /timeout/.test(e.message))
  await assert.rejects(sbx.setTimeout(90 * 24 * 3600 * 1000), e => /timeout/.test(e.message))
  let res = await api('/v2/sandboxes', { method: 'POST', body: '{"templateID": ', headers: { 'Content-Type': 'application/json' } })
  assert.equal(res.status, 400)
  assert.equal((await res.json()).code, 400)
  res = await api('/v2/sandboxes', { method: 'POST', body: '{"templateID": "base", "envVars": {"1BAD": "x"}}' })
  assert.equal(res.status, 400)
  res = await api('/v2/sandboxes', { method: 'POST', body: '{"templateID": "base", "metadata": {"bad key!": "x"}}' })
  assert.equal(res.status, 400)
  res = await api('/v2/sandboxes?limit=1000')
  assert.equal(res.status, 400)
  res = await api('/v2/sandboxes?nextToken=garbage!')
  assert.equal(res.status, 400)
  res = await api('/v2/sandboxes?state=sleeping')
  assert.equal(res.status, 400)
  const list = await Sandbox.list().nextItems()
  assert.deepEqual(list.map(s => s.sandboxId), [sbx.sandboxId])   // no sandbox was left behind
})

test('a file path the request may not use: a clear 400', async () => {
  const res = await envd('/files?path=' + encodeURIComponent('/tmp/a\u0000b'), { method: 'GET' })
  assert.equal(res.status, 400)
  const up = await envd('/files', { body: 'x', headers: { 'Content-Type': 'application/octet-stream' } })
  assert.equal(up.status, 400)
  assert.match((await up.json()).message, /path/)
})
