// What every export target (SQLite, PostgreSQL, a directory of CSV or NDJSON) does for the export run.
// A target is all-or-nothing: until commit() the destination is as it was; abort() leaves it so.
import type { CellValue } from "./cells.ts";
import type { ExportPlan, TableSpec } from "./mapping.ts";

export interface ExportTarget {
  /** How messages name the target (a PostgreSQL URL without its password). */
  readonly label: string;
  /** Identifier limit the target imposes (PostgreSQL: 63 bytes). */
  readonly maxIdentifierBytes?: number;
  /** Whether links also become join tables (SQL targets). */
  readonly joinTables: boolean;
  /** Rows per insert() (default 1,000). */
  readonly batchRows?: number;
  /**
   * Opens the destination and creates `tables`. An earlier export there is refused (EXPORT_EXISTS) unless
   * `replace`; then it is dropped in the same transaction. A table of the same name that no export made is
   * always refused.
   */
  begin(
    plan: ExportPlan,
    tables: TableSpec[],
    options: { replace: boolean; baseId: string; baseName: string },
  ): Promise<void>;
  /** Appends rows (in column order). */
  insert(table: TableSpec, rows: CellValue[][]): Promise<void>;
  /** Stores one attachment file's bytes (in `_files`, or as `attachments/<sha256>`). */
  writeFile(sha256: string, bytes: Uint8Array): Promise<void>;
  /** Deletes join rows whose `column` names no row of `table`; returns how many went. */
  removeDangling(join: TableSpec, column: string, table: string): Promise<number>;
  /** Indexes and foreign keys, then makes it all visible at once. */
  commit(tables: TableSpec[]): Promise<void>;
  /** Undoes everything since begin(); safe to call at any point, and more than once. */
  abort(): Promise<void>;
}
