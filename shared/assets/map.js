// The world map of the missions: country outlines from /assets/world.json (Natural Earth,
// served by the function itself), one marker per host country, coloured by the most urgent
// state of the missions there. Drawn with DOM calls only (no innerHTML), so names stay text.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

// Most urgent first: a country shows the first state any of its missions is in.
const MAP_STATES = [
  ["crisis-unanswered", "Krisis tanpa tanggapan · Crisis, no response"],
  ["crisis-answered", "Krisis dengan tanggapan · Crisis with response"],
  ["silent", "Senyap · Silent"],
  ["normal", "Normal"],
];

const mapState = { world: null, crises: [], missions: [] };

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

// A mission is silent when its last official publication is older than this many days.
const SILENT_AFTER_DAYS = 14;

function isSilent(mission, now) {
  const last = (mission.health || {}).last_official_published_at;
  if (!last) return true;
  return now - new Date(last).getTime() > SILENT_AFTER_DAYS * 86400e3;
}

// The state of each host country, from its missions and the active crises there.
function countryStates(missions, crises, now) {
  const byCountry = new Map();
  for (const m of missions) {
    const cc = m.country_code;
    if (!cc) continue;
    const entry = byCountry.get(cc) || { missions: [], name: m.country || cc, states: new Set() };
    entry.missions.push(m);
    entry.states.add(isSilent(m, now) ? "silent" : "normal");
    byCountry.set(cc, entry);
  }
  for (const c of crises) {
    const entry = byCountry.get(c.country_code);
    if (!entry) continue;
    const answered = (c.response_count || 0) > 0;
    entry.states.add(answered ? "crisis-answered" : "crisis-unanswered");
    (entry.crises = entry.crises || []).push(c);
  }
  for (const entry of byCountry.values()) {
    entry.state = MAP_STATES.map(([s]) => s).find((s) => entry.states.has(s)) || "normal";
  }
  return byCountry;
}

function drawMap() {
  const host = document.getElementById("world-map");
  if (!host || !mapState.world) return;
  const world = mapState.world;
  const [x0, y0, w, h] = world.viewBox;
  const root = svg("svg", { viewBox: `${x0} ${y0} ${w} ${h}`, role: "img", "aria-label": "Peta perwakilan · Map of missions" });
  const land = svg("g", { class: "land" });
  for (const [cc, country] of Object.entries(world.countries)) {
    if (country.d) land.append(svg("path", { d: country.d, "data-cc": cc }, svg("title", {}, country.name)));
  }
  root.append(land);

  const states = countryStates(mapState.missions, mapState.crises, Date.now());
  const markers = svg("g", { class: "markers" });
  for (const [cc, entry] of states) {
    const at = (world.countries[cc] || {}).at;
    if (!at) continue;
    const n = entry.missions.length;
    const label = `${entry.name}: ${n} perwakilan · missions · ${MAP_STATES.find(([s]) => s === entry.state)[1]}`;
    const marker = svg("circle", {
      cx: at[0], cy: at[1], r: 3 + Math.min(n, 6), class: `marker ${entry.state}`,
      tabindex: "0", "data-cc": cc,
    }, svg("title", {}, label));
    const choose = () => document.dispatchEvent(new CustomEvent("pantau:country", { detail: { code: cc, name: entry.name } }));
    marker.addEventListener("click", choose);
    marker.addEventListener("keydown", (e) => { if (e.key === "Enter") choose(); });
    markers.append(marker);
  }
  root.append(markers);

  const counts = new Map(MAP_STATES.map(([s]) => [s, 0]));
  for (const entry of states.values()) counts.set(entry.state, counts.get(entry.state) + 1);
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const [s, text] of MAP_STATES) {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${s}`;
    li.append(swatch, document.createTextNode(`${text} (${counts.get(s)})`));
    legend.append(li);
  }
  host.replaceChildren(root, legend);
}

async function loadWorld() {
  const response = await fetch("/assets/world.json");
  if (!response.ok) throw new Error(`world map: ${response.status}`);
  mapState.world = await response.json();
}

// app.js announces the missions it loaded (and later the active crises); the map redraws.
document.addEventListener("pantau:missions", (e) => { mapState.missions = e.detail || []; drawMap(); });
document.addEventListener("pantau:crises", (e) => { mapState.crises = e.detail || []; drawMap(); });
loadWorld().then(drawMap).catch((e) => {
  const host = document.getElementById("world-map");
  if (host) host.textContent = String(e.message || e);
});
