/** Rectangles and bitmap text on an RGB raster: all the drawing the chart needs. */
import { CELL, glyph } from './font.js';
import type { Raster } from './png.js';

/** A colour as [r, g, b]. */
export type Rgb = readonly [number, number, number];

/** A white raster to draw on. */
export class Canvas implements Raster {
  readonly rgb: Uint8Array;

  constructor(readonly width: number, readonly height: number) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }

  /** Fills the rectangle, clipped to the raster. */
  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) this.rgb.set(c, (yy * this.width + xx) * 3);
    }
  }

  /** Draws `s` with its top-left corner at (x, y), each font pixel `scale` pixels wide. */
  text(x: number, y: number, s: string, c: Rgb, scale = 2): void {
    [...s].forEach((ch, i) => {
      glyph(ch).forEach((row, r) => {
        for (let b = 0; b < 5; b++) if (row & (0x10 >> b)) this.rect(x + (i * CELL + b) * scale, y + r * scale, scale, scale, c);
      });
    });
  }

  /** Width `s` takes at `scale`. */
  static textWidth(s: string, scale = 2): number {
    return [...s].length * CELL * scale;
  }
}
