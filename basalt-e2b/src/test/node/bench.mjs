// The E2B SDK's figures for bin/bench (basalt-bench's E2bBench starts basaltd's E2B API and runs
// this with E2B_API_URL / E2B_SANDBOX_URL / E2B_API_KEY set). Prints one JSON line:
//   createToFirstRunMs  Sandbox.create() (without a network, like the gRPC peer row) until the first commands.run('true') has answered, per sample
//   writeMs, readMs     files.write / files.read of 64 MiB (random, SHA-256 verified), per round
// Usage: node bench.mjs SAMPLES ROUNDS
import { createHash, randomBytes } from 'node:crypto'
import { Sandbox } from 'e2b'

const samples = Number(process.argv[2] ?? 10)
const rounds = Number(process.argv[3] ?? 3)
const sha = b => createHash('sha256').update(b).digest('hex')

async function createAndRun() {
  const t0 = performance.now()
  const sbx = await Sandbox.create({ timeoutMs: 300_000, allowInternetAccess: false })
  await sbx.commands.run('true')
  const ms = performance.now() - t0
  await sbx.kill()
  return ms
}

for (let i = 0; i < 2; i++) await createAndRun()   // warm-up: the template exists, node's JIT has run
const createToFirstRunMs = []
for (let i = 0; i < samples; i++) createToFirstRunMs.push(await createAndRun())

const sbx = await Sandbox.create({ timeoutMs: 600_000, allowInternetAccess: false })
const data = randomBytes(64 << 20)
const want = sha(data)
const writeMs = [], readMs = []
try {
  for (let i = 0; i < rounds; i++) {
    await sbx.files.remove('/tmp/bench.bin')   // the guest's /tmp is half its RAM: no room for two copies
    let t0 = performance.now()
    await sbx.files.write('/tmp/bench.bin', data)
    writeMs.push(performance.now() - t0)
    t0 = performance.now()
    const back = await sbx.files.read('/tmp/bench.bin', { format: 'bytes' })
    readMs.push(performance.now() - t0)
    if (back.length !== data.length || sha(back) !== want) throw new Error('64 MiB read back differs from what was written')
    const guest = (await sbx.commands.run('sha256sum /tmp/bench.bin')).stdout.split(' ')[0]
    if (guest !== want) throw new Error('the guest hashes the 64 MiB file differently')
  }
} finally {
  await sbx.kill()
}
console.log(JSON.stringify({ createToFirstRunMs, writeMs, readMs }))
