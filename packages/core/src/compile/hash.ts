/**
 * FNV-1a, 64-bit, over the UTF-8 bytes of a string. Pure (no node:crypto): the table hash only has to
 * change when the content changes, not resist an attacker. 64-bit arithmetic is done on four 16-bit
 * limbs so every intermediate stays an exact small integer. Hot for large tables: no closures, no
 * allocation per byte.
 */
export function fnv1a64(text: string): string {
  // Offset basis 0xcbf29ce484222325, low limb first.
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  const length = text.length;
  let pending = 0; // bytes of a multi-byte UTF-8 sequence still to feed, packed low byte first
  let pendingCount = 0;
  let i = 0;
  while (i < length || pendingCount > 0) {
    let byte: number;
    if (pendingCount > 0) {
      byte = pending & 0xff;
      pending >>>= 8;
      pendingCount--;
    } else {
      let c = text.charCodeAt(i++);
      if (c < 0x80) {
        byte = c;
      } else {
        if (c >= 0xd800 && c <= 0xdbff && i < length) {
          const d = text.charCodeAt(i);
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
          }
        }
        if (c < 0x800) {
          byte = 0xc0 | (c >> 6);
          pending = 0x80 | (c & 0x3f);
          pendingCount = 1;
        } else if (c < 0x10000) {
          byte = 0xe0 | (c >> 12);
          pending = (0x80 | ((c >> 6) & 0x3f)) | ((0x80 | (c & 0x3f)) << 8);
          pendingCount = 2;
        } else {
          byte = 0xf0 | (c >> 18);
          pending = (0x80 | ((c >> 12) & 0x3f)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
          pendingCount = 3;
        }
      }
    }
    h0 ^= byte;
    // h *= 0x100000001b3  (= h * 0x1b3 + (h << 40))
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
