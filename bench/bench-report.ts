import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** Writes a benchmark's figures and raw runs as JSON, and says where. */
export async function writeReport(file: URL, report: object): Promise<void> {
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`written to ${fileURLToPath(file)}`)
}

/**
 * Prints every problem and exits 1: a run with errors, non-2xx answers or failed checks is not a
 * measurement, whatever its figures. The figures themselves are never judged.
 */
export function failWith(problems: readonly string[]): never {
  for (const problem of problems) console.error(`FAILED: ${problem}`)
  process.exit(1)
}
