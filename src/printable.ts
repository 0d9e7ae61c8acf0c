// The one escaper for text that reaches the operator's terminal but comes from elsewhere (base, table,
// field and file names from Airtable or an archive): control characters could otherwise move the
// cursor, recolour, retitle the window or hide text. Every C0 control, DEL and every C1 control is
// shown as an escape (`\x1b`, `\u{9b}`); everything else, including other Unicode, is left alone.

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, without the newline
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` safe to print: control characters escaped. With `keepNewlines`, "\n" stays a line break (for
 * whole messages of several lines); otherwise it is escaped too (for a name, which must stay one line).
 */
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, escapeControl);
}

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  if (code === 0x0a) return "\\n";
  if (code === 0x0d) return "\\r";
  if (code === 0x09) return "\\t";
  return code <= 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}
