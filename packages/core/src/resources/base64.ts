/** Base64 (Secret `data`) to a UTF-8 string, without Node's Buffer (core stays pure). */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Decodes standard base64 (whitespace ignored, padding optional); undefined when malformed. */
export function decodeBase64(s: string): Uint8Array | undefined {
  const clean = s.replace(/\s+/g, '').replace(/=+$/, '');
  if (clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? VALUE[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** UTF-8 bytes to a string (invalid sequences become U+FFFD). */
export function utf8(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let cp = 0xfffd, n = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0 && i + 1 < bytes.length) (cp = ((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f)), (n = 2);
    else if (b >= 0xe0 && b < 0xf0 && i + 2 < bytes.length)
      (cp = ((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f)), (n = 3);
    else if (b >= 0xf0 && b < 0xf5 && i + 3 < bytes.length)
      (cp = ((b & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f)), (n = 4);
    s += String.fromCodePoint(cp > 0x10ffff ? 0xfffd : cp); // f4 90+ would be past U+10FFFF: fromCodePoint throws
    i += n;
  }
  return s;
}
