// Which entry names are safe to write and to read: relative, forward slashes, no "..", no drive letters.
// The writer refuses to produce an unsafe name and the reader refuses to list one.

/** Why `name` is unsafe as a zip entry name, or undefined if it is fine. */
export function unsafeNameReason(name: string): string | undefined {
  if (name.length === 0) return "empty name";
  if (name.includes("\0")) return "NUL character in name";
  if (name.includes("\\")) return "backslash in name";
  if (name.startsWith("/")) return "absolute path";
  if (/^[A-Za-z]:/.test(name)) return "drive letter";
  const segments = name.split("/");
  if (segments.includes("..")) return "'..' path segment";
  if (segments.some((s, i) => (s === "" && i < segments.length - 1) || s === ".")) return "empty or '.' path segment";
  return undefined;
}
