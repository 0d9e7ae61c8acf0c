// Airtable-shaped ids (3-char prefix + 14 alphanumerics) and the seeded RNG used for ids and faults.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type IdFactory = (prefix: string) => string;

/** Ids in a deterministic sequence, so a test run always hands out the same ids. */
export function idFactory(seed: number): IdFactory {
  const random = mulberry32(seed);
  return (prefix) => {
    let id = prefix;
    for (let i = 0; i < 14; i++) id += ALPHABET[Math.floor(random() * ALPHABET.length)];
    return id;
  };
}

/** True for `<prefix><14 alphanumerics>`. */
export function isId(prefix: string, value: unknown): value is string {
  return typeof value === "string" && value.length === 17 && value.startsWith(prefix) && /^[A-Za-z0-9]+$/.test(value);
}

/** The same id for the same key, for seeds written by hand: stableId("fld", "Contacts.Email"). */
export function stableId(prefix: string, key: string): string {
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  const random = mulberry32(hash >>> 0);
  let id = prefix;
  for (let i = 0; i < 14; i++) id += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return id;
}
