import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

let clockTicks: number | undefined

/** User plus system CPU time of a Linux process, microseconds; NaN where there is no `/proc` or no such process. */
export function processCpuMicros(pid: number): number {
  const fields = statFields(pid)
  if (fields === undefined) return Number.NaN
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  // proc(5): after "pid (comm) ", utime and stime are the 12th and 13th fields.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks
}

/**
 * {@link processCpuMicros} of a process and of its living children together: for a server
 * such as nginx, whose master forks the workers that do the work. A child that has exited
 * since the last call no longer counts, so compare samples taken while the workers live.
 */
export function processTreeCpuMicros(pid: number): number {
  return [pid, ...childPids(pid)].reduce((sum, each) => sum + processCpuMicros(each), 0)
}

/** The processes whose parent is `pid`, from `/proc/<pid>/stat`; empty where there is no `/proc`. */
export function childPids(pid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries.filter((entry) => /^\d+$/.test(entry) && statFields(Number(entry))?.[1] === String(pid)).map(Number)
}

/** The fields of `/proc/<pid>/stat` after "pid (comm) ": state, ppid, ... */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}
