import { crc32, deflateSync } from 'node:zlib';

/**
 * Small landscape pictures for the demo catalogue, drawn in code and encoded as PNG, so a fresh
 * install shows images without any network access.
 */

type Rgb = readonly [number, number, number];

export interface Palette {
  skyTop: Rgb;
  skyHorizon: Rgb;
  land: Rgb;
  sun: Rgb;
}

export const PALETTES: readonly Palette[] = [
  { skyTop: [24, 88, 168], skyHorizon: [170, 215, 240], land: [46, 125, 50], sun: [255, 236, 140] },
  { skyTop: [255, 120, 60], skyHorizon: [255, 205, 130], land: [30, 90, 120], sun: [255, 250, 220] },
  { skyTop: [60, 40, 120], skyHorizon: [240, 140, 120], land: [70, 60, 50], sun: [255, 210, 120] },
  { skyTop: [20, 120, 140], skyHorizon: [200, 240, 230], land: [20, 100, 60], sun: [255, 255, 200] },
  { skyTop: [90, 140, 200], skyHorizon: [230, 230, 210], land: [150, 120, 70], sun: [255, 240, 170] },
  { skyTop: [10, 60, 110], skyHorizon: [120, 190, 220], land: [16, 80, 110], sun: [250, 250, 250] },
];

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, crc]);
}

/** Encodes an RGB image (8 bits per channel, no interlace) as PNG. */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => Rgb): Buffer {
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0; // filter type: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const at = y * stride + 1 + x * 3;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function mix(a: Rgb, b: Rgb, amount: number): Rgb {
  const t = Math.min(1, Math.max(0, amount));
  return [
    Math.round(a[0] + (b[0] - a[0]) * t),
    Math.round(a[1] + (b[1] - a[1]) * t),
    Math.round(a[2] + (b[2] - a[2]) * t),
  ];
}

/** A sky, a sun and rolling hills; `seed` varies the hills and the sun so each picture differs. */
export function landscapePng(seed: number, palette: Palette, width = 320, height = 200): Buffer {
  const horizon = height * (0.55 + (seed % 5) * 0.03);
  const sunX = width * (0.2 + ((seed * 37) % 60) / 100);
  const sunY = height * 0.28;
  const sunRadius = height * 0.09;
  const frequency = 0.015 + (seed % 7) * 0.004;
  const phase = seed * 1.7;
  return encodePng(width, height, (x, y) => {
    const ridge = horizon - 18 * Math.sin(x * frequency + phase) - 9 * Math.sin(x * frequency * 2.7 + phase);
    if (y >= ridge) return mix(palette.land, [0, 0, 0], Math.min(0.5, (y - ridge) / height));
    if (Math.hypot(x - sunX, y - sunY) <= sunRadius) return palette.sun;
    return mix(palette.skyTop, palette.skyHorizon, y / horizon);
  });
}
