// A mission's activity chart: its items per day over the last days, stacked by role, drawn as
// SVG with DOM calls (no innerHTML). Used by app.js on the mission page.
"use strict";

const CHART_ROLES = [
  ["official", "Resmi · Official"],
  ["hq", "Pusat · HQ"],
  ["media", "Media"],
  ["hazard", "Bencana · Hazard"],
];

function drawActivity(host, activity, days) {
  const NS = "http://www.w3.org/2000/svg";
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.append(document.createTextNode(String(text)));
    return n;
  };
  // One slot per calendar day, empty days included, so gaps show as silence.
  const byDay = new Map((activity.days || []).map((d) => [d.day, d]));
  const until = new Date(activity.until || Date.now());
  const slots = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(until.getTime() - i * 86400e3).toISOString().slice(0, 10);
    slots.push(byDay.get(day) || { day, official: 0, hq: 0, media: 0, hazard: 0 });
  }
  const total = (d) => CHART_ROLES.reduce((sum, [r]) => sum + (d[r] || 0), 0);
  const max = Math.max(1, ...slots.map(total));
  const W = 900, H = 120, top = 14, bottom = 18, barW = W / slots.length;
  const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "activity-chart",
    "aria-label": `Aktivitas ${days} hari · Activity over ${days} days` });
  const scale = (H - top - bottom) / max;
  slots.forEach((d, i) => {
    let y = H - bottom;
    for (const [role, label] of CHART_ROLES) {
      const n = d[role] || 0;
      if (!n) continue;
      const h = n * scale;
      y -= h;
      const bar = node("rect", { x: (i * barW + 0.5).toFixed(1), y: y.toFixed(1), width: Math.max(barW - 1, 1).toFixed(1),
        height: h.toFixed(1), class: `bar ${role}` });
      bar.append(node("title", {}, `${d.day}: ${n} ${label}`));
      svg.append(bar);
    }
  });
  svg.append(node("text", { x: 0, y: 10, class: "axis" }, `maks/max ${max}`));
  svg.append(node("text", { x: 0, y: H - 4, class: "axis" }, slots[0].day));
  svg.append(node("text", { x: W, y: H - 4, class: "axis end" }, slots[slots.length - 1].day));
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const [role, label] of CHART_ROLES) {
    const count = slots.reduce((sum, d) => sum + (d[role] || 0), 0);
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${role}`;
    li.append(swatch, document.createTextNode(`${label} (${count})`));
    legend.append(li);
  }
  const caption = activity.truncated ? " · sebagian · partial" : "";
  const title = document.createElement("div");
  title.className = "meta";
  title.textContent = `Aktivitas ${days} hari terakhir · Activity, last ${days} days${caption}`;
  host.replaceChildren(title, svg, legend);
}
