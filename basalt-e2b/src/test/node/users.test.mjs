// Guest users through E2B's SDK: commands run as the named user (its uid, gid, home and login
// environment), as root when asked; files and directories are created owned by the user the call
// names, and a path that user may not write is refused.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, AuthenticationError } from 'e2b'
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

const owner = async path => (await sbx.commands.run(`ls -ldn ${path}`, { user: 'root' })).stdout.split(/\s+/).slice(2, 4).join(':')

test('commands run as E2B\'s default user `user`, or as root when asked', async () => {
  const r = await sbx.commands.run('id -u; id -g; id -G; echo $HOME $USER $LOGNAME $SHELL; pwd')
  assert.equal(r.stdout, '1000\n1000\n1000\n/home/user user user /bin/bash\n/home/user\n')
  const root = await sbx.commands.run('id -u; echo $HOME; pwd', { user: 'root' })
  assert.equal(root.stdout, '0\n/root\n/root\n')
  await assert.rejects(sbx.commands.run('touch /root/nope'), e => e.exitCode === 1 && /Permission denied/.test(e.stderr))
  await sbx.commands.run('touch /home/user/mine')
  assert.equal(await owner('/home/user/mine'), '1000:1000')
})

test('a background process keeps its user', async () => {
  const h = await sbx.commands.run('sleep 30', { background: true })
  const ps = await sbx.commands.run(`ps -o user,pid,args | grep "sleep 30" | grep -v grep`, { user: 'root' })
  assert.match(ps.stdout, /^\s*(user|1000)\s/m)
  await h.kill()
})

test('files are written and directories made as the user the call names', async () => {
  await sbx.files.write('/home/user/as-user/deep/file.txt', 'hi')
  assert.equal(await owner('/home/user/as-user'), '1000:1000')
  assert.equal(await owner('/home/user/as-user/deep/file.txt'), '1000:1000')
  await sbx.files.write('/tmp/as-root.txt', 'hi', { user: 'root' })
  assert.equal(await owner('/tmp/as-root.txt'), '0:0')
  assert.equal(await sbx.files.makeDir('/home/user/made'), true)
  assert.equal(await owner('/home/user/made'), '1000:1000')
  assert.equal(await sbx.files.makeDir('/tmp/made-by-root', { user: 'root' }), true)
  assert.equal(await owner('/tmp/made-by-root'), '0:0')
})

test('a path the user may not write is refused; root may; nothing is left behind', async () => {
  await assert.rejects(sbx.files.write('/root/forbidden.txt', 'x'), e => /ermission/.test(e.message))
  await assert.rejects(sbx.files.write('/etc/forbidden/sub.txt', 'x'), e => /ermission/.test(e.message))
  await assert.rejects(sbx.files.makeDir('/root/forbidden-dir'), e => /ermission/.test(e.message))
  assert.equal(await sbx.files.exists('/root/forbidden.txt', { user: 'root' }), false)
  assert.equal(await sbx.files.exists('/etc/forbidden', { user: 'root' }), false)
  await sbx.files.write('/root/allowed.txt', 'x', { user: 'root' })
  assert.equal(await sbx.files.read('/root/allowed.txt', { user: 'root' }), 'x')
})

test('a user the sandbox does not have is refused (401, as envd does)', async () => {
  await assert.rejects(sbx.commands.run('true', { user: 'nobody-here' }), e => e instanceof AuthenticationError)
  await assert.rejects(sbx.files.write('/tmp/x', 'x', { user: 'nobody-here' }), e => e instanceof AuthenticationError)
  await assert.rejects(sbx.commands.run('true', { user: '../etc' }), e => e instanceof AuthenticationError)
})
