import type { Command } from 'commander'

/** Adds the options that locate the state: data directory, config file, database. */
export function stateOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory (SQLite store, key encryption key)', process.env.MESHGUARD_DATA_DIR ?? '.meshguard')
    .option('--config <file>', 'JSON configuration file')
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL, else SQLite in the data directory)')
}
