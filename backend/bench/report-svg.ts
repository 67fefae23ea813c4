/**
 * A hand-written SVG chart of latency (ms) against load (events/s), both axes logarithmic: lines for series
 * measured at several loads, markers for single points. No dependencies.
 */
export interface Series {
  label: string;
  color: string;
  line: boolean;
  shape?: 'circle' | 'square';
  points: { x: number; y: number }[];
}

const W = 760;
const H = 440;
const PAD = { left: 70, right: 20, top: 40, bottom: 55 };
const LEGEND_W = 0;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Powers of ten and their 2× and 5× between lo and hi. */
function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

export function latencySvg(series: Series[], title: string): string {
  const all = series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 12 + series.length * 18}" viewBox="0 0 ${W} ${H + 12 + series.length * 18}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  if (all.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no latency measurements in results.json</text>`, '</svg>');
    return `${out.join('\n')}\n`;
  }
  const xLo = 10 ** Math.floor(Math.log10(Math.min(...all.map((p) => p.x))));
  const xHi = 10 ** Math.ceil(Math.log10(Math.max(...all.map((p) => p.x))));
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...all.map((p) => p.y))));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...all.map((p) => p.y))));
  const plotW = W - PAD.left - PAD.right - LEGEND_W;
  const plotH = H - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((Math.log10(x) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * plotW;
  const sy = (y: number) => PAD.top + plotH - ((Math.log10(y) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * plotH;
  const r = (n: number) => Math.round(n * 10) / 10;

  for (const t of ticks(xLo, xHi)) {
    out.push(`<line x1="${r(sx(t))}" y1="${PAD.top}" x2="${r(sx(t))}" y2="${PAD.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${r(sx(t))}" y="${PAD.top + plotH + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(yLo, yHi)) {
    out.push(`<line x1="${PAD.left}" y1="${r(sy(t))}" x2="${PAD.left + plotW}" y2="${r(sy(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${r(sy(t)) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${PAD.left + plotW / 2}" y="${H - 14}" text-anchor="middle">offered load, events/s (log scale)</text>`);
  out.push(`<text transform="translate(18 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">webhook ack latency, ms (log scale)</text>`);

  const mark = (s: Series, x: number, y: number) =>
    s.shape === 'square'
      ? `<rect x="${r(x - 4)}" y="${r(y - 4)}" width="8" height="8" fill="${s.color}"><title>${esc(s.label)}</title></rect>`
      : `<circle cx="${r(x)}" cy="${r(y)}" r="4" fill="${s.line ? '#fff' : s.color}" stroke="${s.color}" stroke-width="2"><title>${esc(s.label)}</title></circle>`;
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.x > 0 && p.y > 0).sort((a, b) => a.x - b.x);
    if (s.line && pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${r(sx(p.x))},${r(sy(p.y))}`).join(' ')}"/>`);
    }
    for (const p of pts) out.push(mark(s, sx(p.x), sy(p.y)));
    const ly = H + 12 + i * 18;
    out.push(s.line ? `<line x1="${PAD.left}" y1="${ly - 4}" x2="${PAD.left + 20}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>` : mark(s, PAD.left + 10, ly - 4));
    out.push(`<text x="${PAD.left + 28}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
