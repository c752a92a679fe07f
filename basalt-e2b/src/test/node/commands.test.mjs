// commands.* of E2B's SDK against basaltd: streamed output, exit codes, env, cwd, stdin,
// background processes, list, kill, time limits.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, CommandExitError, TimeoutError } from 'e2b'
import { startDaemon, cleanUp } from './daemon.mjs'

let daemon, sbx
before(async () => {
  daemon = await startDaemon()
  sbx = await Sandbox.create({ timeoutMs: 600_000, envs: { SANDBOX_VAR: 'from-create' } })
})
after(async () => {
  await sbx?.kill().catch(() => {})
  await cleanUp(daemon)
})

test('stdout and stderr stream while the command runs, before it exits', async () => {
  const chunks = []
  const t0 = Date.now()
  const result = await sbx.commands.run('echo first; sleep 2; echo second >&2; sleep 1; echo third', {
    onStdout: d => chunks.push({ at: Date.now() - t0, out: d }),
    onStderr: d => chunks.push({ at: Date.now() - t0, err: d }),
  })
  const total = Date.now() - t0
  assert.equal(result.exitCode, 0)
  assert.equal(result.stdout, 'first\nthird\n')
  assert.equal(result.stderr, 'second\n')
  assert.deepEqual(chunks.map(c => c.out ?? c.err), ['first\n', 'second\n', 'third\n'])
  assert.ok(chunks[0].at < total - 2000, `first chunk at ${chunks[0].at} ms, exit at ${total} ms`)
  assert.ok(chunks[1].at < total - 500, `stderr chunk at ${chunks[1].at} ms, exit at ${total} ms`)
})

test('a non-zero exit is a CommandExitError with the code and the output', async () => {
  await assert.rejects(sbx.commands.run('echo out; echo oops >&2; exit 7'), e => {
    assert.ok(e instanceof CommandExitError, String(e))
    assert.equal(e.exitCode, 7)
    assert.equal(e.stdout, 'out\n')
    assert.equal(e.stderr, 'oops\n')
    assert.match(e.error, /exit status 7/)
    return true
  })
})

test('envs: the sandbox default plus the command own, which wins', async () => {
  const r = await sbx.commands.run('echo $SANDBOX_VAR $CMD_VAR', { envs: { CMD_VAR: 'from-run' } })
  assert.equal(r.stdout, 'from-create from-run\n')
  const o = await sbx.commands.run('echo $SANDBOX_VAR', { envs: { SANDBOX_VAR: 'overridden' } })
  assert.equal(o.stdout, 'overridden\n')
})

test('cwd: given, and the user home by default', async () => {
  assert.equal((await sbx.commands.run('pwd', { cwd: '/tmp' })).stdout, '/tmp\n')
  assert.equal((await sbx.commands.run('pwd')).stdout, '/home/user\n')
  assert.equal((await sbx.commands.run('pwd', { user: 'root' })).stdout, '/root\n')
  await assert.rejects(sbx.commands.run('pwd', { cwd: '/no/such/dir' }))
})

test('background command: stdin, list, connect, closeStdin, kill', async () => {
  const seen = []
  const cat = await sbx.commands.run('cat', { background: true, stdin: true, onStdout: d => seen.push(d) })
  assert.ok(cat.pid > 0)
  const listed = await sbx.commands.list()
  const mine = listed.find(p => p.pid === cat.pid)
  assert.ok(mine, `pid ${cat.pid} not in ${JSON.stringify(listed)}`)
  assert.equal(mine.cmd, '/bin/bash')
  assert.deepEqual(mine.args, ['-l', '-c', 'cat'])

  await cat.sendStdin('line one\n')
  const other = []
  const second = await sbx.commands.connect(cat.pid, { onStdout: d => other.push(d) })
  await sbx.commands.sendStdin(cat.pid, 'line two\n')
  await cat.closeStdin()
  const result = await cat.wait()
  assert.equal(result.exitCode, 0)
  assert.equal(result.stdout, 'line one\nline two\n')
  assert.equal((await second.wait()).exitCode, 0)
  assert.deepEqual(other.join(''), 'line two\n')
  assert.ok(!(await sbx.commands.list()).some(p => p.pid === cat.pid))

  const sleeper = await sbx.commands.run('sleep 600', { background: true })
  assert.equal(await sbx.commands.kill(sleeper.pid), true)
  await assert.rejects(sleeper.wait(), e => e instanceof CommandExitError && e.exitCode === -1)
  assert.equal(await sbx.commands.kill(sleeper.pid), false)
})

test('a command keeps running when its stream is dropped, and can be connected again', async () => {
  const h = await sbx.commands.run('sleep 1; echo done-late', { background: true })
  await h.disconnect()
  const again = await sbx.commands.connect(h.pid)
  const r = await again.wait()
  assert.equal(r.exitCode, 0)
})

test('timeoutMs ends the command: TimeoutError, and the process is gone', async () => {
  const t0 = Date.now()
  await assert.rejects(sbx.commands.run('sleep 30', { timeoutMs: 1500 }), e => e instanceof TimeoutError)
  assert.ok(Date.now() - t0 < 10_000)
  await new Promise(r => setTimeout(r, 500))
  const ps = await sbx.commands.run('ps -o args')
  assert.ok(!ps.stdout.includes('sleep 30'), ps.stdout)
})

test('large output arrives whole', async () => {
  const r = await sbx.commands.run('head -c 3000000 /dev/zero | tr "\\0" a')
  assert.equal(r.stdout.length, 3_000_000)
})
