// Deflate or store? Already-compressed content is stored (deflating it costs CPU and saves nothing).
// Rule, in order: an explicit choice wins; a known compressed content type or magic number means
// store; a first 4 KiB that looks random (byte entropy above 7.5 bits) means store; anything else is deflated.

/** How many leading bytes `shouldDeflate` wants to look at. */
export const PROBE_BYTES = 4096;

const STORED_TYPES = [
  /^image\/(png|jpeg|jpg|gif|webp|avif|heic|heif|jxl)$/,
  /^(video|audio)\//,
  /^application\/(zip|gzip|x-gzip|x-bzip2|x-xz|zstd|x-7z-compressed|x-rar-compressed|vnd\.rar|pdf|java-archive|epub\+zip)$/,
  /^application\/vnd\.openxmlformats-officedocument\./, // docx, xlsx, pptx are zips
  /^application\/vnd\.oasis\.opendocument\./, // odt, ods are zips
  /^font\/(woff|woff2)$/,
];

// [offset, bytes] pairs; the first match means "already compressed".
const MAGIC_NUMBERS: ReadonlyArray<readonly [number, readonly number[]]> = [
  [0, [0x89, 0x50, 0x4e, 0x47]], // PNG
  [0, [0xff, 0xd8, 0xff]], // JPEG
  [0, [0x47, 0x49, 0x46, 0x38]], // GIF8
  [8, [0x57, 0x45, 0x42, 0x50]], // WebP ("RIFF....WEBP")
  [0, [0x50, 0x4b, 0x03, 0x04]], // zip (and docx, xlsx, jar, epub...)
  [0, [0x1f, 0x8b]], // gzip
  [0, [0x42, 0x5a, 0x68]], // bzip2
  [0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]], // xz
  [0, [0x28, 0xb5, 0x2f, 0xfd]], // zstd
  [0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]], // 7z
  [0, [0x52, 0x61, 0x72, 0x21]], // rar
  [0, [0x25, 0x50, 0x44, 0x46]], // %PDF
  [4, [0x66, 0x74, 0x79, 0x70]], // ISO BMFF: mp4, mov, m4a, heic, avif ("....ftyp")
  [0, [0x49, 0x44, 0x33]], // mp3 with ID3 tag
  [0, [0xff, 0xfb]], // mp3 frame
  [0, [0x4f, 0x67, 0x67, 0x53]], // Ogg
  [0, [0x66, 0x4c, 0x61, 0x43]], // FLAC
  [0, [0x1a, 0x45, 0xdf, 0xa3]], // Matroska / WebM
  [0, [0x77, 0x4f, 0x46, 0x32]], // woff2
];

/** Decide from the content type (if any) and the first bytes whether to deflate. */
export function shouldDeflate(contentType: string | undefined, firstBytes: Uint8Array): boolean {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type && STORED_TYPES.some((re) => re.test(type))) return false;
  if (MAGIC_NUMBERS.some(([offset, magic]) => magic.every((b, i) => firstBytes[offset + i] === b))) return false;
  if (firstBytes.length >= 1024 && entropyBitsPerByte(firstBytes.subarray(0, PROBE_BYTES)) > 7.5) return false;
  return true;
}

// --- internal ---

function entropyBitsPerByte(bytes: Uint8Array): number {
  const counts = new Uint32Array(256);
  for (const b of bytes) counts[b]!++;
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= (c / bytes.length) * Math.log2(c / bytes.length);
  return bits;
}
