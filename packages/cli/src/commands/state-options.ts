import type { Command } from 'commander'

/**
 * Adds the options that locate the state: data directory, config file, database. None has a
 * default here: an option given wins, then the configuration file, then the environment, then
 * the schema's default (`.meshguard`), so a file's `dataDir` is never overridden unasked.
 */
export function stateOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory (SQLite store, key encryption key); default $MESHGUARD_DATA_DIR, else .meshguard')
    .option('--config <file>', 'JSON configuration file')
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL, else SQLite in the data directory)')
}
