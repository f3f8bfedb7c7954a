/** How a column of a {@link formatTable} is aligned: text to the left, numbers to the right. */
export type ColumnAlign = 'left' | 'right';

/** Spaces between two columns. */
const COLUMN_GAP = '  ';

/**
 * Formats rows as an aligned plain-text table: every column as wide as its widest cell (in UTF-16 code units: wide
 * characters may shift a row), columns two spaces apart, no trailing spaces. The first row is usually the header.
 * @param align per column; missing entries are `'left'`.
 */
export function formatTable(rows: readonly (readonly string[])[], align: readonly ColumnAlign[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join(COLUMN_GAP)
        .trimEnd(),
    )
    .join('\n');
}
