/** One line of a comparison: the same metric for Meshguard and for the peer it is compared with. */
export interface ComparisonRow {
  metric: string
  meshguard: number | string
  peer: number | string
  /** `meshguard / peer`, for numeric rows. */
  ratio?: number | undefined
  /** Decimal places shown for the values (the JSON keeps them whole). */
  decimals?: number | undefined
}

/** A titled comparison table; `peer` names the column compared against Meshguard. */
export interface ComparisonTable {
  title: string
  peer: string
  rows: ComparisonRow[]
}

/** `a / b` for two numbers, undefined otherwise (or when `b` is zero). */
export function ratioOf(a: number | string, b: number | string): number | undefined {
  return typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : undefined
}

/**
 * Renders a table as aligned plain text: metric, meshguard, the peer, ratio.
 *
 * @example
 * console.log(formatTable({ title: 'HTTP', peer: 'oidc-provider', rows: [{ metric: 'tokens/s', meshguard: 9000, peer: 3000, ratio: 3 }] }))
 */
export function formatTable(table: ComparisonTable): string {
  const header = ['metric', 'meshguard', table.peer, 'ratio']
  const cells = table.rows.map((row) => [
    row.metric,
    formatValue(row.meshguard, row.decimals),
    formatValue(row.peer, row.decimals),
    row.ratio === undefined ? '' : `${formatNumber(row.ratio, row.ratio < 10 ? 2 : 0)}x`,
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column]!.length)))
  const render = (line: string[]) =>
    line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd()
  const rule = widths.map((width) => '-'.repeat(width)).join('  ')
  return [table.title, rule, render(header), rule, ...cells.map(render), rule].join('\n')
}

function formatValue(value: number | string, decimals = 0): string {
  return typeof value === 'number' ? formatNumber(value, decimals) : value
}

function formatNumber(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}
