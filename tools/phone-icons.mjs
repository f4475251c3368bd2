// Draws the phone web app's icons (src/AuthServer/wwwroot/phone/icons/icon-<size>.png): a dark square with three QR
// finder patterns and a check mark, in our own colours. Run it with `node tools/phone-icons.mjs` after changing the
// design; the PNGs are checked in so the build needs no Node. The drawing stays inside the central 80 % so the same
// icon serves as a maskable one (the launcher may cut it to a circle).
import { writeFileSync, mkdirSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "AuthServer", "wwwroot", "phone", "icons");
const DARK = [0x1d, 0x24, 0x33];
const LIGHT = [0xff, 0xff, 0xff];
const ACCENT = [0x3c, 0xb3, 0x71];

/** The colour at (x, y) of a unit square, both in [0, 1). */
function colour(x, y) {
  // The safe zone of a maskable icon is the circle of radius 0.4 around the centre; the design sits in 0.2 .. 0.8.
  const u = (x - 0.2) / 0.6, v = (y - 0.2) / 0.6;
  if (u < 0 || u >= 1 || v < 0 || v >= 1) return DARK;
  const finder = (fu, fv) => {
    // A finder pattern: a 7-module square ring, a gap, and a 3-module square in the middle.
    const m = Math.floor(fu * 7), n = Math.floor(fv * 7);
    if (m === 0 || m === 6 || n === 0 || n === 6) return LIGHT;
    if (m >= 2 && m <= 4 && n >= 2 && n <= 4) return LIGHT;
    return DARK;
  };
  const size = 0.36;
  if (u < size && v < size) return finder(u / size, v / size);
  if (u >= 1 - size && v < size) return finder((u - (1 - size)) / size, v / size);
  if (u < size && v >= 1 - size) return finder(u / size, (v - (1 - size)) / size);
  // A check mark in the fourth corner: two thick strokes.
  const cu = (u - (1 - size)) / size, cv = (v - (1 - size)) / size;
  if (cu >= 0 && cv >= 0) {
    const near = (ax, ay, bx, by) => {
      const dx = bx - ax, dy = by - ay;
      const t = Math.max(0, Math.min(1, ((cu - ax) * dx + (cv - ay) * dy) / (dx * dx + dy * dy)));
      return Math.hypot(cu - (ax + t * dx), cv - (ay + t * dy)) < 0.11;
    };
    if (near(0.12, 0.55, 0.4, 0.82) || near(0.4, 0.82, 0.9, 0.2)) return ACCENT;
  }
  return DARK;
}

function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGB PNG (ISO/IEC 15948): signature, IHDR, one IDAT of filter-0 rows, IEND. */
function png(size) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  const rows = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    for (let x = 0; x < size; x++) {
      const [r, g, b] = colour((x + 0.5) / size, (y + 0.5) / size);
      rows[row + 1 + x * 3] = r;
      rows[row + 2 + x * 3] = g;
      rows[row + 3 + x * 3] = b;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header), chunk("IDAT", deflateSync(rows, { level: 9 })), chunk("IEND", Buffer.alloc(0)),
  ]);
}

mkdirSync(out, { recursive: true });
for (const size of [192, 512]) writeFileSync(join(out, `icon-${size}.png`), png(size));
