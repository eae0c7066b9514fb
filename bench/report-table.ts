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
  return formatColumns(table.title, header, cells)
}

/**
 * Renders already formatted cells as aligned plain text under a title: the first column to the
 * left, the others to the right.
 *
 * @example
 * console.log(formatColumns('HTTP', ['server', 'req/s'], [['baseline', '20,000']]))
 */
export function formatColumns(title: string, header: readonly string[], cells: readonly (readonly string[])[]): string {
  const widths = header.map((name, column) => Math.max(name.length, ...cells.map((line) => line[column]?.length ?? 0)))
  const render = (line: readonly string[]) =>
    widths.map((width, column) => (column === 0 ? (line[column] ?? '').padEnd(width) : (line[column] ?? '').padStart(width))).join('  ').trimEnd()
  const rule = widths.map((width) => '-'.repeat(width)).join('  ')
  return [title, rule, render(header), rule, ...cells.map(render), rule].join('\n')
}

/** The middle value, the upper one of an even count: always a figure some round measured. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
}

/** A ratio as the percentage it adds, e.g. `+4.2%` for 1.042 (empty for NaN). */
export function formatPercentAdded(ratio: number): string {
  return Number.isNaN(ratio) ? '' : `${ratio >= 1 ? '+' : ''}${formatNumber((ratio - 1) * 100, 1)}%`
}

/** A number with thousands separators and a fixed count of decimals. */
export function formatNumber(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

function formatValue(value: number | string, decimals = 0): string {
  return typeof value === 'number' ? formatNumber(value, decimals) : value
}
