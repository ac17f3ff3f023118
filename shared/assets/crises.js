// The crisis board: crises newest first (active ones on top), each with its missions' first
// responses and how long they took, the no-response flag, and a timeline (every signal and
// response) on demand. Drawn
// with DOM calls and textContent only. Uses app.js's getJson, el, when and state.
"use strict";

const CRISIS_KINDS = {
  earthquake: "Gempa bumi · Earthquake", tsunami: "Tsunami", flood: "Banjir · Flood",
  landslide: "Tanah longsor · Landslide", cyclone: "Siklon · Cyclone", volcano: "Gunung api · Volcano",
  wildfire: "Kebakaran hutan · Wildfire", heatwave: "Gelombang panas · Heatwave", drought: "Kekeringan · Drought",
  war: "Perang · War", unrest: "Kerusuhan · Unrest", coup: "Kudeta · Coup", attack: "Serangan · Attack",
  security: "Keamanan · Security", accident: "Kecelakaan · Accident", epidemic: "Wabah · Epidemic", other: "Lainnya · Other",
};
const RESPONSE_KINDS = {
  advisory: "Imbauan · Advisory", hotline: "Hotline", evacuation: "Evakuasi · Evacuation",
  citizen_data: "Pendataan WNI · Citizen data", statement: "Pernyataan · Statement", other: "Lainnya · Other",
};

// 3h05m, 2d4h: how long after the first signal.
function latency(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const sign = seconds < 0 ? "-" : "+";
  let s = Math.abs(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60);
  return d ? `${sign}${d}h ${h}j` : `${sign}${h}j ${String(m).padStart(2, "0")}m`;
}

function countryName(code) {
  const m = (state.missions || []).find((x) => x.country_code === code);
  return m ? `${m.country} (${code})` : code;
}

function missionLabel(id) {
  const m = (state.missions || []).find((x) => x.id === id);
  return m ? missionName(m) : id;
}

function crisisCard(c) {
  // A home crisis (in Indonesia) is headquarters' own: no mission is expected to answer it.
  const flag = c.home
    ? el("span", { class: "badge home" }, "Dalam negeri · Home crisis (headquarters)")
    : c.no_response
    ? el("span", { class: "badge unanswered" }, "Tanpa tanggapan · No response")
    : c.response_count ? el("span", { class: "badge answered" }, `${c.response_count} tanggapan · responses`) : "";
  const head = el("div", { class: "crisis-head" },
    el("span", { class: `badge ${c.state}` }, c.state === "active" ? "Aktif · Active" : "Selesai · Closed"),
    el("strong", {}, `${CRISIS_KINDS[c.kind] || c.kind} — ${c.home ? "Indonesia (ID)" : countryName(c.country_code)}`),
    flag);
  const meta = el("div", { class: "meta" },
    `Sinyal pertama · first signal: ${when(c.first_signal_at)} · ${c.signals} sinyal · signals · ${c.opened_by}`);
  // Each mission's first response: the one its latency counts from.
  const responses = el("ul", { class: "responses" });
  for (const r of c.first_responses || []) {
    responses.append(el("li", {},
      el("span", { class: "latency" }, latency(r.latency_seconds)),
      el("span", { class: "mission" }, missionLabel(r.mission)),
      el("span", { class: "kind" }, RESPONSE_KINDS[r.kind] || r.kind),
      el("span", { class: "title" }, r.title)));
  }
  const later = (c.response_count || 0) - (c.first_responses || []).length;
  if (later > 0) {
    responses.append(el("li", { class: "more" },
      `+${later} tanggapan lanjutan di linimasa · later responses in the timeline`));
  }
  const timeline = el("ol", { class: "timeline", hidden: "" });
  const toggle = el("button", { type: "button", class: "link" }, "Linimasa · Timeline");
  toggle.addEventListener("click", () => showTimeline(c.id, timeline));
  const card = el("li", { class: `crisis ${c.state}`, "data-crisis": c.id }, head, meta, responses, toggle, timeline);
  return card;
}

async function showTimeline(id, list) {
  if (!list.hidden) { list.hidden = true; return; }
  try {
    const detail = await getJson(`/crises/${encodeURIComponent(id)}`);
    list.replaceChildren();
    for (const e of detail.timeline || []) {
      const who = e.type === "response" ? missionLabel(e.mission) : e.source;
      const why = e.type === "response" ? (RESPONSE_KINDS[e.kind] || e.kind) : e.reason;
      list.append(el("li", { class: e.type },
        el("span", { class: "latency" }, latency(e.since_first_signal_seconds)),
        el("span", { class: "meta" }, `${when(e.at)} · ${who} · ${why}`),
        el("div", {}, e.title)));
    }
    list.hidden = false;
  } catch (e) {
    list.replaceChildren(el("li", {}, String(e.message || e)));
    list.hidden = false;
  }
}

async function loadCrises() {
  const board = document.getElementById("crises");
  if (!board) return;
  try {
    const body = await getJson("/crises?limit=50");
    const crises = body.crises || [];
    // Active first, then newest first (the API's order).
    crises.sort((a, b) => (a.state === b.state ? 0 : a.state === "active" ? -1 : 1));
    board.replaceChildren(...crises.map(crisisCard));
    if (!crises.length) board.append(el("li", {}, "Tidak ada krisis · No crises"));
    const active = crises.filter((c) => c.state === "active");
    document.getElementById("crisis-count").textContent =
      `(${active.length} aktif · active, ${active.filter((c) => c.no_response).length} tanpa tanggapan · unanswered)`;
    document.dispatchEvent(new CustomEvent("pantau:crises", { detail: active }));
    showLinkedCrisis();
  } catch (e) {
    board.replaceChildren(el("li", {}, String(e.message || e)));
  }
}

// An alert links to `#crisis=ID`: that crisis's card is marked, scrolled to, and its
// timeline opened (crises older than the board's 50 are not on the page).
function showLinkedCrisis() {
  const id = hashParams().get("crisis");
  if (!id) return;
  const card = [...document.querySelectorAll("[data-crisis]")].find((c) => c.dataset.crisis === id);
  if (!card) return;
  card.classList.add("linked");
  card.scrollIntoView({ block: "center" });
  const timeline = card.querySelector(".timeline");
  if (timeline && timeline.hidden) showTimeline(id, timeline);
}

// The board loads once the missions are in (for names), and with them on every reload.
document.addEventListener("pantau:missions", loadCrises);
