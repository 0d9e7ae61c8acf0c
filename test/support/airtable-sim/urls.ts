// Signed, expiring attachment URLs on the content host, like v5.airtableusercontent.com's.
// A URL carries its expiry (epoch ms) and an HMAC; it fails once expired, after
// expireAttachmentUrls() (which bumps a generation baked into the signature), or if tampered with.
import type { StoredAttachment } from "./model.ts";

export interface UrlSigner {
  /** The attachment object as the API returns it, with URLs valid from now for the TTL. */
  attachmentObject(att: StoredAttachment): Record<string, unknown>;
  /** Checks a download path; returns the attachment id it grants, or undefined. */
  verify(pathname: string): string | undefined;
  expireAll(): void;
  setOrigin(origin: string): void;
}

export function createUrlSigner(ttlMs: number): UrlSigner {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  let generation = 1;
  let issued = 0; // makes every URL handed out distinct, like Airtable's fresh URLs per read
  let origin = "";

  const sign = (attId: string, expires: string) =>
    new Bun.CryptoHasher("sha256", secret).update(`${generation}.${attId}.${expires}`).digest("base64url").slice(0, 32);

  // /v3/<kind>/<expires epoch ms>.<serial>/<att id>/<signature>/<filename>
  const url = (attId: string, kind: string, expires: string, filename: string) =>
    `${origin}/v3/${kind}/${expires}/${attId}/${sign(attId, expires)}/${encodeURIComponent(filename)}`;

  return {
    setOrigin(o) {
      origin = o;
    },
    expireAll() {
      generation++;
    },
    attachmentObject(att) {
      const expires = `${Date.now() + ttlMs}.${++issued}`;
      const object: Record<string, unknown> = {
        id: att.id,
        url: url(att.id, "u", expires, att.filename),
        filename: att.filename,
        size: att.size,
        type: att.type,
      };
      if (att.width !== undefined && att.height !== undefined) {
        object.width = att.width;
        object.height = att.height;
        const scaled = (h: number) => ({ width: Math.max(1, Math.round((att.width! * h) / att.height!)), height: h });
        // Thumbnails serve the original bytes: good enough for clients that only follow `url`.
        object.thumbnails = {
          small: { url: url(att.id, "ts", expires, att.filename), ...scaled(Math.min(36, att.height)) },
          large: { url: url(att.id, "tl", expires, att.filename), ...scaled(Math.min(512, att.height)) },
          full: { url: url(att.id, "tf", expires, att.filename), width: att.width, height: att.height },
        };
      }
      return object;
    },
    verify(pathname) {
      const [, v3, kind, expires, attId, signature] = pathname.split("/");
      if (v3 !== "v3" || !kind || !expires || !attId || !signature) return undefined;
      if (Number.parseInt(expires, 10) < Date.now()) return undefined;
      return sign(attId, expires) === signature ? attId : undefined;
    },
  };
}
