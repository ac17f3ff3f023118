// Pantau dashboard: missions on the left, a mission's publications on the right.
// Everything from the API is drawn with textContent: titles from the outside world stay text.
"use strict";

const $ = (id) => document.getElementById(id);
// `search` is the query shown instead of a mission's items, when there is one.
const state = { missions: [], current: null, cursor: null, search: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

// The API key lives in sessionStorage: it goes with the tab, not to disk for good.
const KEY_STORE = "pantau.apiKey";
const storedKey = () => sessionStorage.getItem(KEY_STORE);

class NeedKey extends Error {}

function askForKey(message) {
  sessionStorage.removeItem(KEY_STORE);
  $("key-error").textContent = message || "";
  $("key-form").hidden = false;
  $("forget-key").hidden = true;
  $("key-input").focus();
}

async function getJson(path) {
  const headers = { accept: "application/json" };
  const key = storedKey();
  if (key) headers["x-api-key"] = key;
  const response = await fetch(path, { headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    askForKey(body.detail || "");
    throw new NeedKey(body.detail || "API key needed");
  }
  if (!response.ok) throw new Error(body.detail || body.title || response.statusText);
  return body;
}

function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString("id-ID", { dateStyle: "medium", timeStyle: "short" });
}

function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch { return null; }
}

function missionName(m) { return m.name || `${m.kind || ""} ${m.city || m.id}`.trim(); }

// The API's health status: ok, degraded, failing or unknown.
function health(m) { return (m.health || {}).status || "unknown"; }

function renderMissions() {
  const q = $("filter").value.trim().toLowerCase();
  const list = $("missions");
  list.replaceChildren();
  const shown = state.missions.filter((m) =>
    !q || [m.id, m.city, m.country, missionName(m)].some((s) => (s || "").toLowerCase().includes(q)));
  for (const m of shown) {
    const last = (m.health || {}).last_official_published_at;
    const li = el("li", { "data-id": m.id },
      el("span", {}, el("span", { class: `dot ${health(m)}` }), missionName(m), el("span", { class: "en" }, ` · ${m.country || ""}`)),
      el("span", { class: "meta" }, last ? when(last) : ""));
    if (state.current === m.id) li.classList.add("active");
    li.addEventListener("click", () => openMission(m.id));
    list.append(li);
  }
  $("mission-count").textContent = `(${shown.length})`;
}

async function openMission(id) {
  state.current = id;
  history.replaceState(null, "", `#mission=${encodeURIComponent(id)}`);
  state.search = null;
  state.cursor = null;
  $("items").replaceChildren();
  renderMissions();
  const m = state.missions.find((x) => x.id === id);
  $("items-title").textContent = m ? missionName(m) : id;
  try {
    const detail = await getJson(`/missions/${encodeURIComponent(id)}`);
    const h = detail.health || {};
    const errors = (detail.sources || []).map((s) => (s.state || {}).last_error).filter(Boolean);
    $("mission-health").textContent =
      `Publikasi resmi terakhir / last official: ${when(h.last_official_published_at)} · ` +
      `pengambilan terakhir / last fetch: ${when(h.last_success_at)}` +
      (errors.length ? ` · galat / error: ${errors[0]}` : "");
  } catch (e) {
    $("mission-health").textContent = String(e.message || e);
  }
  loadActivity(id);
  loadHqMatching(id);
  await loadItems();
}

const ACTIVITY_DAYS = 90;

async function loadActivity(id) {
  $("activity").replaceChildren();
  try {
    const activity = await getJson(`/missions/${encodeURIComponent(id)}/activity?days=${ACTIVITY_DAYS}`);
    if (state.current === id) drawActivity($("activity"), activity, ACTIVITY_DAYS);
  } catch (e) {
    $("activity").textContent = String(e.message || e);
  }
}

// Headquarters' records against this mission's publications (GET /reports/hq-matching):
// match rate, unmatched on both sides, figure disagreements. Drawn with DOM calls only.
const HQ_DAYS = 90;

async function loadHqMatching(id) {
  const box = $("hq-matching");
  box.replaceChildren();
  const to = new Date();
  const from = new Date(to.getTime() - HQ_DAYS * 86400000);
  const day = (d) => d.toISOString().slice(0, 10);
  let report;
  try {
    report = await getJson(`/reports/hq-matching?mission=${encodeURIComponent(id)}&from=${day(from)}&to=${day(to)}`);
  } catch (e) {
    box.textContent = String(e.message || e);
    return;
  }
  if (state.current !== id) return;
  const m = (report.missions || [])[0];
  if (!m || !m.records) {
    box.append(el("p", { class: "hq-none" }, `Catatan pusat · HQ records: belum ada, ${HQ_DAYS} hari terakhir · none in the last ${HQ_DAYS} days`));
    return;
  }
  const rate = m.match_rate == null ? "—" : `${Math.round(m.match_rate * 100)}%`;
  box.append(el("h3", {}, "Catatan pusat vs publikasi ", el("span", { class: "en" }, `HQ records vs publications, ${HQ_DAYS} days`)));
  box.append(el("p", { class: "hq-summary" },
    `Cocok · matched ${m.matched}/${m.records} (${rate}) · ` +
    `tidak dipublikasikan · never published ${m.unmatched_records} · ` +
    `tidak tercatat · never recorded ${m.unmatched_publications} · ` +
    `selisih angka · figure disagreements ${m.figure_disagreements}`));
  const list = (title, rows) => {
    if (!rows.length) return;
    box.append(el("h4", {}, title));
    box.append(el("ul", { class: "hq-list" }, ...rows.slice(0, 10).map((r) => el("li", {}, r))));
  };
  list("Selisih angka · Figure disagreements", (report.figure_disagreements || []).map((d) =>
    `${d.kind}: dicatat · recorded ${d.recorded}, dipublikasikan · published ${d.published} — ${d.record_title} / ${d.publication_title}`));
  list("Tidak dipublikasikan · Never published", (report.unmatched_records || []).map((r) => `${r.date} · ${r.title}`));
  list("Tidak tercatat · Never recorded", (report.unmatched_publications || []).map((p) => `${p.day} · ${p.title}`));
}

// Search: every word must match; Indonesian affixes, case and accents do not matter.
async function runSearch(q) {
  state.current = null;
  state.search = q;
  state.cursor = null;
  $("items").replaceChildren();
  renderMissions();
  $("items-title").textContent = `Hasil pencarian · Search results: “${q}”`;
  $("mission-health").textContent = "Terbaru dulu, 100 hari terakhir · Newest first, last 100 days";
  $("activity").replaceChildren();
  $("hq-matching").replaceChildren();
  await loadItems();
}

async function loadItems() {
  const id = state.current;
  const search = state.search;
  const qs = new URLSearchParams({ limit: "30" });
  if (search) qs.set("q", search);
  if (state.cursor) qs.set("cursor", state.cursor);
  const path = search ? `/search?${qs}` : `/missions/${encodeURIComponent(id)}/items?${qs}`;
  try {
    const page = await getJson(path);
    if (state.current !== id || state.search !== search) return;
    for (const item of page.items || []) {
      const href = safeHref(item.url);
      const title = href ? el("a", { href, rel: "noopener noreferrer", target: "_blank" }, item.title) : item.title;
      const where = search ? `${item.mission} · ` : "";
      $("items").append(el("li", {},
        el("div", { class: "title" }, title),
        el("div", { class: "meta" }, `${where}${when(item.published_at)} · ${item.language || "?"} · ${item.role} · ${item.source}`),
        el("p", { class: "summary" }, item.summary || "")));
    }
    if (!(page.items || []).length && !state.cursor) {
      $("items").append(el("li", {}, search
        ? "Tidak ada hasil · No results"
        : "Belum ada publikasi · No publications yet"));
    }
    state.cursor = page.next_cursor || null;
    $("more").hidden = !state.cursor;
  } catch (e) {
    // A refused query (say, only common words) is shown where the results would be.
    if (search) $("mission-health").textContent = String(e.message || e);
    else $("status").textContent = String(e.message || e);
  }
}

// The page's own address says what to show: `#mission=ID` opens a mission's page (a link an
// analyst can share), and `#key=…` hands the page a key once (taken out of the address at once).
function hashParams() { return new URLSearchParams(location.hash.replace(/^#/, "")); }

function takeKeyFromAddress() {
  const params = hashParams();
  const key = params.get("key");
  if (!key) return;
  sessionStorage.setItem(KEY_STORE, key);
  params.delete("key");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

function showCountry(code, name) {
  $("filter").value = name || code;
  renderMissions();
  const first = state.missions.find((m) => m.country_code === code);
  if (first) openMission(first.id);
}

async function start() {
  takeKeyFromAddress();
  if (!storedKey()) { askForKey(""); return; }
  $("key-form").hidden = true;
  $("forget-key").hidden = false;
  try {
    const body = await getJson("/missions");
    state.missions = body.missions || [];
    state.missions.sort((a, b) => missionName(a).localeCompare(missionName(b)));
    renderMissions();
    document.dispatchEvent(new CustomEvent("pantau:missions", { detail: state.missions }));
    $("status").textContent = `${state.missions.length} perwakilan · missions`;
    const wanted = state.missions.find((m) => m.id === hashParams().get("mission"));
    const first = wanted || state.missions.find((m) => (m.health || {}).last_official_published_at) || state.missions[0];
    if (first) openMission(first.id);
  } catch (e) {
    $("status").textContent = `API: ${e.message || e}`;
  }
}

function init() {
  $("filter").addEventListener("input", renderMissions);
  $("more").addEventListener("click", loadItems);
  document.addEventListener("pantau:country", (e) => showCountry(e.detail.code, e.detail.name));
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("search-q").value.trim();
    if (q && storedKey()) runSearch(q);
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("key-input").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    $("key-input").value = "";
    start();
  });
  $("forget-key").addEventListener("click", () => askForKey(""));
  start();
}

init();
