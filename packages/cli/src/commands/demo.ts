import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { action } from '../runtime.js'
import type { DemoFile } from '../up/demo-file.js'
import { driveTraffic, summarise } from '../up/traffic.js'

const BAR_WIDTH = 30

/** `meshguard demo traffic`: a mixed workload through the running demo mesh, refusals included. */
export function demoCommand(): Command {
  const demo = new Command('demo').description('work with the mesh `meshguard up` runs')
  demo
    .command('traffic')
    .description('drive every flow of the running mesh, allowed and refused, and summarise the outcomes')
    .option('--data-dir <dir>', 'the data directory of `meshguard up`', '.meshguard')
    .option('--seconds <n>', 'how long to drive traffic', '20')
    .action(
      action(async (options: { dataDir: string; seconds: string }) => {
        const seconds = Number(options.seconds)
        if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new Error('--seconds must be a number from 1 to 3600')
        const file = join(options.dataDir, 'demo.json')
        const description = JSON.parse(readFileSync(file, 'utf8')) as DemoFile
        const tty = process.stderr.isTTY
        const outcomes = await driveTraffic(description, {
          seconds,
          onProgress: (elapsedMs, calls) => {
            const done = Math.min(1, elapsedMs / (seconds * 1000))
            const filled = Math.round(done * BAR_WIDTH)
            const line = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.round(elapsedMs / 1000)}/${seconds} s, ${calls} calls`
            if (tty) process.stderr.write(`\r${line}`)
          },
        })
        if (tty) process.stderr.write('\n')
        const { lines, unexpected } = summarise(outcomes)
        const allowed = outcomes.filter((outcome) => outcome.outcome === 'allowed').length
        process.stdout.write(`${outcomes.length} calls: ${allowed} allowed, ${outcomes.length - allowed} denied\n\n${lines.join('\n')}\n`)
        if (unexpected > 0) {
          process.stdout.write(`\n${unexpected} calls did not come out as the tier promises\n`)
          process.exitCode = 1
        }
      }),
    )
  return demo
}
