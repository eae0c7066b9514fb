import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

/** Where tests leave screenshots and traces for a person to look at; ignored by git. */
const ARTIFACTS_DIR = resolve(import.meta.dirname, '../../../../test-artifacts')

/**
 * A headless Chromium: Debian's `/usr/bin/chromium`, or the binary `CHROMIUM_PATH` names.
 * The sandbox needs user namespaces a root process does not get in a container, so it is turned
 * off only when running as root.
 *
 * @throws Error naming `scripts/ensure-services.sh` when the binary is missing.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: run scripts/ensure-services.sh to install Debian's chromium, or set CHROMIUM_PATH`)
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  })
}

/** A path for a file named `name` under `<repo root>/test-artifacts/`, which is created if needed. */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  return resolve(ARTIFACTS_DIR, name)
}
