// Generates shared/assets/world.json: country outlines as SVG paths (equirectangular,
// 960×480 for the globe, cropped to 86°N–56°S) keyed by ISO alpha-2, and a label point per
// country where mission markers sit.
import fs from 'node:fs';
import * as topo from 'topojson-client';
import countries from 'i18n-iso-countries';
const W = 960, H = 480;
const px = ([lon, lat]) => [((lon + 180) / 360) * W, ((90 - lat) / 180) * H];
const r1 = (v) => Math.round(v * 10) / 10;
// Rings that cross the antimeridian (Russia, Fiji) come as points on both sides of ±180°:
// those few points go to the edge on the ring's own side instead of drawing a line across.
function keepOneSide(ring) {
  const crosses = ring.some((p) => p[0] > 170) && ring.some((p) => p[0] < -170);
  if (!crosses) return ring;
  const east = ring.filter((p) => p[0] > 0).length >= ring.length / 2;
  return ring.map(([lon, lat]) => (east && lon < 0 ? [180, lat] : !east && lon > 0 ? [-180, lat] : [lon, lat]));
}
function ringPath(ring) {
  ring = keepOneSide(ring);
  let d = '', last = null;
  for (const p of ring) {
    const [x, y] = px(p).map(r1);
    const s = `${x} ${y}`;
    if (s === last) continue;
    d += (d ? 'L' : 'M') + s; last = s;
  }
  return d + 'Z';
}
function polys(geom) {
  if (!geom) return [];
  return geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
}
function area(ring) { let a = 0; for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]); return Math.abs(a / 2); }
function centroid(ring) { let x = 0, y = 0; for (const p of ring) { x += p[0]; y += p[1]; } return [x / ring.length, y / ring.length]; }
function load(file) {
  const t = JSON.parse(fs.readFileSync(`node_modules/world-atlas/${file}`));
  return topo.feature(t, t.objects.countries).features;
}
const alpha2 = (f) => countries.numericToAlpha2(String(f.id).padStart(3, '0'));
// 86°N to 56°S: nothing south of Cape Horn but Antarctica.
const out = { source: 'Natural Earth 1:110m (world-atlas 2) outlines; label points from 1:50m', viewBox: [0, 10, W, 390], countries: {} };
for (const f of load('countries-110m.json')) {
  let cc = alpha2(f);
  if (!cc && f.properties.name === 'Kosovo') cc = 'XK';
  if (!cc || cc === 'AQ') continue; // Antarctica: no missions, a third of the map
  out.countries[cc] = { name: f.properties.name, d: polys(f.geometry).map((p) => ringPath(p[0]) + p.slice(1).map(ringPath).join('')).join('') };
}
for (const f of load('countries-50m.json')) {
  let cc = alpha2(f);
  if (!cc) continue;
  const rings = polys(f.geometry).map((p) => p[0]);
  if (!rings.length) continue;
  const big = rings.reduce((a, b) => (area(b) > area(a) ? b : a));
  const [x, y] = px(centroid(big)).map(r1);
  out.countries[cc] = { ...(out.countries[cc] || { name: f.properties.name }), at: [x, y] };
}
fs.writeFileSync(process.argv[2], JSON.stringify(out));
const need = fs.readFileSync('codes.txt', 'utf8').split('\n').filter(Boolean);
console.log('countries', Object.keys(out.countries).length, 'missing mission countries:', need.filter((c) => !out.countries[c]?.at));
