/// <reference types="node" />
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import manifest from '../stripe-app.json';

/** The icon the manifest names: a real 300×300 PNG beside it, and exactly what scripts/make-icon.mjs draws. */
const APP = join(__dirname, '..');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunks(png: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    out.push({ type: png.toString('ascii', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

describe('icon.png', () => {
  const png = readFileSync(join(APP, manifest.icon));

  it('is what the manifest names: a PNG of 300×300 pixels (8-bit RGBA)', () => {
    expect(manifest.icon).toBe('./icon.png');
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const [ihdr] = chunks(png);
    expect(ihdr.type).toBe('IHDR');
    expect(ihdr.data.readUInt32BE(0)).toBe(300);
    expect(ihdr.data.readUInt32BE(4)).toBe(300);
    expect(Array.from(ihdr.data.subarray(8, 13))).toEqual([8, 6, 0, 0, 0]);
    expect(chunks(png).map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  });

  it('draws a brand-coloured square with transparent corners and a white glyph', () => {
    const idat = Buffer.concat(chunks(png).filter((c) => c.type === 'IDAT').map((c) => c.data));
    const rows = inflateSync(idat);
    const stride = 300 * 4 + 1;
    expect(rows.length).toBe(300 * stride);
    const pixel = (x: number, y: number) => Array.from(rows.subarray(y * stride + 1 + x * 4, y * stride + 1 + x * 4 + 4));
    expect(pixel(0, 0)[3]).toBe(0); // rounded corner
    expect(pixel(150, 10)).toEqual([0x63, 0x5b, 0xff, 255]); // the square
    expect(pixel(150, 150)).toEqual([0x63, 0x5b, 0xff, 255]); // the middle of the ring is empty
    expect(pixel(123, 76)).toEqual([255, 255, 255, 255]); // on the upper arc
    expect(pixel(177, 224)).toEqual([255, 255, 255, 255]); // on the lower arc
  });

  it('is exactly what scripts/make-icon.mjs draws (regenerate with `npm run icon`)', () => {
    expect(() => execFileSync(process.execPath, [join(APP, 'scripts', 'make-icon.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
