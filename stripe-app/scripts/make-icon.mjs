#!/usr/bin/env node
/**
 * Draws the app's icon (`icon.png`, 300×300, the size the Stripe App manifest asks for): a rounded square in the
 * brand colour with a white sync glyph — two ring arcs, each ending in an arrowhead. Pure geometry, 4×4
 * supersampled for smooth edges, written as an RGBA PNG with node's zlib. Deterministic: the same bytes every run.
 *
 *   node scripts/make-icon.mjs           writes icon.png beside the manifest
 *   node scripts/make-icon.mjs --check   exits 1 when icon.png is not what this script draws
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

export const SIZE = 300;
export const BRAND = [0x63, 0x5b, 0xff]; // #635BFF
const CORNER = 66;
const RING_OUTER = 92;
const RING_INNER = 66;
const ARROW_HALF_WIDTH = 30;
const ARROW_LENGTH = 36;
/** Each arc runs from its start angle for this many degrees, then its arrowhead continues it. */
const ARCS = [
  { start: 200, sweep: 110 },
  { start: 20, sweep: 110 },
];
const SAMPLES = 4;

const rad = (deg) => (deg * Math.PI) / 180;
const c = SIZE / 2;

function inRoundedSquare(x, y) {
  const dx = Math.max(CORNER - x, 0, x - (SIZE - CORNER));
  const dy = Math.max(CORNER - y, 0, y - (SIZE - CORNER));
  return dx * dx + dy * dy <= CORNER * CORNER;
}

function inArc(x, y, arc) {
  const r = Math.hypot(x - c, y - c);
  if (r < RING_INNER || r > RING_OUTER) return false;
  const deg = ((Math.atan2(y - c, x - c) * 180) / Math.PI + 360) % 360;
  return (deg - arc.start + 360) % 360 <= arc.sweep;
}

/** The triangle at the end of an arc, pointing along the ring (angles grow clockwise on screen). */
function arrowhead(arc) {
  const end = rad(arc.start + arc.sweep);
  const mid = (RING_INNER + RING_OUTER) / 2;
  const base = [c + mid * Math.cos(end), c + mid * Math.sin(end)];
  const radial = [Math.cos(end), Math.sin(end)];
  const tangent = [-Math.sin(end), Math.cos(end)];
  return [
    [base[0] + radial[0] * ARROW_HALF_WIDTH, base[1] + radial[1] * ARROW_HALF_WIDTH],
    [base[0] - radial[0] * ARROW_HALF_WIDTH, base[1] - radial[1] * ARROW_HALF_WIDTH],
    [base[0] + tangent[0] * ARROW_LENGTH, base[1] + tangent[1] * ARROW_LENGTH],
  ];
}

function inTriangle(x, y, [a, b, d]) {
  const side = (p, q) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const s1 = side(a, b);
  const s2 = side(b, d);
  const s3 = side(d, a);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
}

const heads = ARCS.map(arrowhead);
const inGlyph = (x, y) => ARCS.some((a) => inArc(x, y, a)) || heads.some((t) => inTriangle(x, y, t));

/** RGBA pixels, row by row. */
export function renderPixels() {
  const out = Buffer.alloc(SIZE * SIZE * 4);
  const n = SAMPLES * SAMPLES;
  for (let py = 0; py < SIZE; py++) {
    for (let px = 0; px < SIZE; px++) {
      let cover = 0;
      let white = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = px + (sx + 0.5) / SAMPLES;
          const y = py + (sy + 0.5) / SAMPLES;
          if (!inRoundedSquare(x, y)) continue;
          cover++;
          if (inGlyph(x, y)) white++;
        }
      }
      const i = (py * SIZE + px) * 4;
      if (cover === 0) continue; // transparent outside the square
      const w = white / cover;
      for (let k = 0; k < 3; k++) out[i + k] = Math.round(BRAND[k] * (1 - w) + 255 * w);
      out[i + 3] = Math.round((255 * cover) / n);
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let v = n;
  for (let k = 0; k < 8; k++) v = v & 1 ? 0xedb88320 ^ (v >>> 1) : v >>> 1;
  return v >>> 0;
});

export function crc32(buf) {
  let v = 0xffffffff;
  for (const byte of buf) v = CRC_TABLE[(v ^ byte) & 0xff] ^ (v >>> 8);
  return (v ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** The icon as PNG bytes: 8-bit RGBA, no interlace, every row with filter 0. */
export function renderPng() {
  const pixels = renderPixels();
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(SIZE, 0);
  ihdr.writeUInt32BE(SIZE, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let y = 0; y < SIZE; y++) pixels.copy(rows, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'icon.png');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const png = renderPng();
  if (process.argv.includes('--check')) {
    let current = Buffer.alloc(0);
    try {
      current = readFileSync(target);
    } catch {
      // missing: differs
    }
    if (!current.equals(png)) {
      console.error('icon.png differs from what scripts/make-icon.mjs draws; run `npm run icon -w stripe-app`');
      process.exit(1);
    }
  } else {
    writeFileSync(target, png);
    console.log(`wrote ${target} (${png.length} bytes)`);
  }
}
