// files.* of E2B's SDK against basaltd: write (multipart and octet-stream), read, list, exists,
// makeDir, rename, remove, large files verified by hash on both sides, watchDir.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { Sandbox, FileNotFoundError, FilesystemEventType } from 'e2b'
import { startDaemon, cleanUp } from './daemon.mjs'

let daemon, sbx
before(async () => {
  daemon = await startDaemon()
  sbx = await Sandbox.create({ timeoutMs: 600_000 })
})
after(async () => {
  await sbx?.kill().catch(() => {})
  await cleanUp(daemon)
})

const sha256 = b => createHash('sha256').update(b).digest('hex')

test('write, read, exists, getInfo; relative paths are in the home directory', async () => {
  const info = await sbx.files.write('/tmp/hello.txt', 'hello, basalt')
  assert.equal(info.path, '/tmp/hello.txt')
  assert.equal(info.name, 'hello.txt')
  assert.equal(await sbx.files.read('/tmp/hello.txt'), 'hello, basalt')
  assert.deepEqual(await sbx.files.read('/tmp/hello.txt', { format: 'bytes' }), new TextEncoder().encode('hello, basalt'))
  assert.equal(await sbx.files.exists('/tmp/hello.txt'), true)
  assert.equal(await sbx.files.exists('/tmp/absent.txt'), false)
  const stat = await sbx.files.getInfo('/tmp/hello.txt')
  assert.equal(stat.type, 'file')
  assert.equal(stat.size, 13)
  assert.equal(stat.permissions, '-rw-r--r--')
  assert.ok(Math.abs(stat.modifiedTime.getTime() - Date.now()) < 60_000)

  const rel = await sbx.files.write('notes/todo.txt', 'relative')
  assert.equal(rel.path, '/home/user/notes/todo.txt')
  assert.equal((await sbx.commands.run('cat /home/user/notes/todo.txt')).stdout, 'relative')
  assert.equal(await sbx.files.read('', { format: 'text' }).catch(e => e.constructor.name), 'InvalidArgumentError')
})

test('an empty file reads back empty', async () => {
  await sbx.files.write('/tmp/empty', '')
  assert.equal(await sbx.files.read('/tmp/empty'), '')
  assert.equal((await sbx.files.read('/tmp/empty', { format: 'bytes' })).length, 0)
})

test('reading a missing file or a directory fails as E2B says', async () => {
  await assert.rejects(sbx.files.read('/tmp/does-not-exist'), e => e instanceof FileNotFoundError)
  await assert.rejects(sbx.files.read('/tmp'), e => /is a directory/.test(e.message))
})

test('several files in one multipart write', async () => {
  const infos = await sbx.files.write([
    { path: '/tmp/multi/a.txt', data: 'A' },
    { path: '/tmp/multi/b.bin', data: new Uint8Array([1, 2, 3]) },
  ])
  assert.deepEqual(infos.map(i => i.path).sort(), ['/tmp/multi/a.txt', '/tmp/multi/b.bin'])
  assert.equal((await sbx.commands.run('cat /tmp/multi/a.txt; od -An -tu1 /tmp/multi/b.bin')).stdout.replace(/\s+/g, ' ').trim(), 'A 1 2 3')
})

test('large files: 32 MiB written (multipart and streamed octet-stream) and read back, hash-verified on both sides', async () => {
  const data = randomBytes(32 << 20)
  const want = sha256(data)
  await sbx.files.write('/tmp/big.bin', data)
  assert.equal((await sbx.commands.run('sha256sum /tmp/big.bin')).stdout.split(' ')[0], want)
  const back = await sbx.files.read('/tmp/big.bin', { format: 'bytes' })
  assert.equal(back.length, data.length)
  assert.equal(sha256(back), want)

  await sbx.files.write('/tmp/streamed.bin', Readable.toWeb(Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)])))
  assert.equal((await sbx.commands.run('sha256sum /tmp/streamed.bin')).stdout.split(' ')[0], want)
  const gz = await sbx.files.read('/tmp/streamed.bin', { format: 'bytes', gzip: true })
  assert.equal(sha256(gz), want)
  await sbx.files.write('/tmp/gzipped.bin', data, { gzip: true })
  assert.equal((await sbx.commands.run('sha256sum /tmp/gzipped.bin')).stdout.split(' ')[0], want)
})

test('list (with depth), makeDir, rename, remove', async () => {
  assert.equal(await sbx.files.makeDir('/tmp/tree/sub'), true)
  assert.equal(await sbx.files.makeDir('/tmp/tree/sub'), false)
  await sbx.files.write('/tmp/tree/top.txt', 'top')
  await sbx.files.write('/tmp/tree/sub/deep.txt', 'deep')
  const one = await sbx.files.list('/tmp/tree')
  assert.deepEqual(one.map(e => `${e.name}:${e.type}`).sort(), ['sub:dir', 'top.txt:file'])
  const two = await sbx.files.list('/tmp/tree', { depth: 2 })
  assert.deepEqual(two.map(e => e.path).sort(), ['/tmp/tree/sub', '/tmp/tree/sub/deep.txt', '/tmp/tree/top.txt'])
  assert.equal(two.find(e => e.name === 'deep.txt').size, 4)
  await assert.rejects(sbx.files.list('/tmp/tree/top.txt'))
  await assert.rejects(sbx.files.list('/tmp/none'), e => e instanceof FileNotFoundError)

  const moved = await sbx.files.rename('/tmp/tree/top.txt', '/tmp/elsewhere/moved.txt')
  assert.equal(moved.path, '/tmp/elsewhere/moved.txt')
  assert.equal(await sbx.files.read('/tmp/elsewhere/moved.txt'), 'top')
  await assert.rejects(sbx.files.rename('/tmp/tree/top.txt', '/tmp/x'), e => e instanceof FileNotFoundError)

  await sbx.files.remove('/tmp/tree')
  assert.equal(await sbx.files.exists('/tmp/tree'), false)
  await sbx.files.remove('/tmp/tree')   // nothing left: no error, as in envd
})

test('watchDir reports creates, writes and removes, recursively when asked', async () => {
  await sbx.files.makeDir('/tmp/watched/inner')
  const events = []
  const handle = await sbx.files.watchDir('/tmp/watched', e => events.push(e), { recursive: true })
  await sbx.files.write('/tmp/watched/new.txt', 'one')
  await sbx.files.write('/tmp/watched/inner/deep.txt', 'two')
  await new Promise(r => setTimeout(r, 1000))
  await sbx.commands.run('echo more >> /tmp/watched/new.txt')
  await new Promise(r => setTimeout(r, 1000))
  await sbx.files.remove('/tmp/watched/new.txt')
  const until = Date.now() + 10_000
  while (Date.now() < until && !events.some(e => e.type === FilesystemEventType.REMOVE)) {
    await new Promise(r => setTimeout(r, 200))
  }
  await handle.stop()
  const seen = events.map(e => `${e.type}:${e.name}`)
  assert.ok(seen.includes('create:new.txt'), seen.join(' '))
  assert.ok(seen.includes('create:inner/deep.txt'), seen.join(' '))
  assert.ok(seen.includes('write:new.txt'), seen.join(' '))
  assert.ok(seen.includes('remove:new.txt'), seen.join(' '))
  await assert.rejects(sbx.files.watchDir('/tmp/not-there', () => {}), e => e instanceof FileNotFoundError)
})
