// Unique SQL names: Airtable names kept exactly, except where two would collide (case-insensitively, as SQLite
// compares names, or after PostgreSQL cuts an identifier at 63 bytes): then " (2)", " (3)"... is added.

/** A function that hands out unique names in one namespace; `onRename` hears every name it had to change. */
export function createNamer(
  maxBytes: number,
  onRename: (wanted: string, got: string) => void = () => {},
): (wanted: string) => string {
  const taken = new Set<string>();
  return (wanted) => {
    let name = truncateUtf8(wanted, maxBytes);
    for (let n = 2; taken.has(foldCase(name)); n++) {
      const suffix = ` (${n})`;
      name = truncateUtf8(wanted, maxBytes - Buffer.byteLength(suffix)) + suffix;
    }
    taken.add(foldCase(name));
    if (name !== wanted) onRename(wanted, name);
    return name;
  };
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that does not split a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** SQLite folds ASCII letters only when comparing names. */
function foldCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
