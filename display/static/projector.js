/* The projector: draws the state the hub sends on /ws/live; computes nothing itself. */
(function () {
  let lang = localStorage.getItem("lang") || "fr";
  let state = null, palette = null, lastMessage = 0, page = 0, filter = "";
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const T = () => STRINGS[lang];
  fetch("/static/palette.json").then((r) => r.json()).then((p) => { palette = p.grades; render(); });

  $("lang").onclick = () => { lang = lang === "fr" ? "en" : "fr"; localStorage.setItem("lang", lang); render(); };
  const params = new URLSearchParams(location.search);
  if (params.get("theme") === "dark") document.body.classList.add("dark");
  filter = params.get("transition") || "";

  function grades() { return lang === "en" ? state.session.grades_en : state.session.grades; }
  function colours() { return (palette && palette[String(state.session.grades.length)]) || []; }

  function bar(tally, compact) {
    const total = tally.reduce((a, b) => a + b, 0) || 1, cs = colours(), g = grades();
    return `<div class="bar">` + tally.map((c, i) => c ? `<div style="width:${100 * c / total}%;background:${cs[i]}"
      title="${esc(g[i])}">${compact ? "" : pct(100 * c / total, lang)}</div>` : "").join("") + `</div>`;
  }
  function legend() {
    const cs = colours();
    return `<div class="legend">` + grades().map((g, i) => `<span><i style="background:${cs[i]}"></i>${esc(g)}</span>`).join("") + `</div>`;
  }
  function badge(row) {
    if (row.majority_grade_index == null) return "—";
    const g = row.gauge, sign = g ? g.sign : "";
    return `<span class="badge" style="background:${colours()[row.majority_grade_index]}">${esc(grades()[row.majority_grade_index])}${sign}</span>`;
  }
  function proposal(n) { return state.proposals.find((p) => p.number === n) || { number: n, title: "" }; }

  function waiting() {
    const g = grades(), cs = colours();
    return `<h2>${T().waiting}</h2><p>${T().how}</p><div class="keys">` +
      state.session.grade_keys.split("").map((k, i) => `<b style="background:${cs[i]}">${esc(k)}</b><span>${esc(g[i])}</span>`).join("") + `</div>`;
  }
  function progress(poll) {
    const p = proposal(poll.items[0]);
    const voted = new Set(poll.voted);
    const head = poll.mode === "consent" ? T().consent : `Fiche ${p.number} — ${esc(p.title)}`;
    return `<h2>${head}</h2><p class="turnout" id="turnout">${T().voted(poll.turnout, state.session.electorate)}</p>` +
      (poll.state === "closing" ? `<p>${T().closing}</p>` : "") +
      (poll.countdown_ends && poll.state === "open" ? `<p class="countdown" id="countdown"></p>` : "") +
      `<div class="grid" id="grid">` + state.session.keypads.map((n) => `<span class="${voted.has(n) ? "on" : ""}" data-n="${n}">${n}</span>`).join("") + `</div>`;
  }
  function result(poll) {
    const rows = poll.results.items;
    return rows.map((row) => {
      const p = proposal(row.number);
      const g = row.gauge;
      // why it stands where it does in the ranking: against the one above and the one below
      const rk = state.ranking.ranking, i = rk.findIndex((r) => r.number === row.number);
      const why = [i > 0 ? rk[i - 1].versus_next : null, i >= 0 ? rk[i].versus_next : null]
        .filter(Boolean).map((v) => `<p class="explain">${esc(v[lang])}</p>`).join("");
      return `<h2>Fiche ${p.number} — ${esc(p.title)}</h2>${bar(row.balanced_tally, false)}${legend()}
        <p>${T().majority} : ${badge(row)} ${g ? `(${pct(g.proponents_percent, lang)} ↑ · ${pct(g.opponents_percent, lang)} ↓)` : ""}</p>${why}`;
    }).join("") + journalHead();
  }
  // the journal's head when the result is shown: the guarantors note it, `clicker verify --head` checks it
  function journalHead() {
    const j = state.journal;
    return j && j.seq ? `<p class="head" id="journal-head">${T().journal} ${j.seq}:${esc(j.head.slice(0, 16))}</p>` : "";
  }
  function consent(poll) {
    const c = poll.results.colours, names = T().colours, bg = { green: "#1a9850", yellow: "#fee08b", orange: "#fc8d59", red: "#d73027" };
    return `<h2>${T().consent}</h2><div class="colours">` + ["green", "yellow", "orange", "red"].map((k) =>
      `<div style="background:${bg[k]}">${names[k]} : ${c[k]}</div>`).join("") + `</div><h3>${T().queue}</h3><p>` +
      poll.results.speaking_queue.map((q) => `<span class="badge" style="background:${bg[q.colour]}">${q.number}</span>`).join(" ") + `</p>`;
  }
  function ranking() {
    const rows = state.ranking.ranking.filter((r) => !filter || r.transition === filter);
    const per = 12, pages = Math.max(1, Math.ceil(rows.length / per));
    const shown = rows.slice((page % pages) * per, (page % pages) * per + per);
    const tied = (r) => rows.filter((x) => x.rank === r.rank).length > 1;
    return `<h2>${T().ranking}${filter ? " — " + esc(filter) : ""} <small>(${T().page} ${page % pages + 1}/${pages})</small></h2><table class="compact">` +
      shown.map((r) => `<tr><td>${r.rank}${tied(r) ? ` <small>${T().ex}</small>` : ""}</td><td>${esc(r.proposal)}</td>
        <td style="width:45%">${bar(r.balanced_tally, true)}</td><td>${badge(r)}</td></tr>`).join("") + `</table>`;
  }

  function render() {
    if (!state) return;
    document.documentElement.lang = lang;
    $("lang").textContent = lang === "fr" ? "EN" : "FR";
    $("title").textContent = state.session.title;
    const poll = state.poll;
    let html;
    if (poll && (poll.state === "open" || poll.state === "closing")) html = poll.mode === "consent" ? progress(poll) + (poll.results ? consent(poll) : "") : progress(poll);
    else if (location.hash === "#ranking" && state.ranking.ranking.length) html = ranking();
    else if (poll && poll.state === "revealed" && poll.results && poll.results.items) html = result(poll);
    else if (poll && poll.mode === "consent" && poll.results && poll.state !== "reset") html = consent(poll);
    else html = waiting();
    $("view").innerHTML = html;
    status();
  }
  function status() {
    if (!state) return;
    const up = state.receivers.filter((r) => r.connected).length;
    const age = (Date.now() - lastMessage) / 1000;
    const el = $("status");
    el.classList.toggle("stale", age > 5);
    el.textContent = age > 5 ? T().frozen : `${up}/${state.receivers.length} ${T().receivers} · ${T().updated} ${new Date(lastMessage).toLocaleTimeString(lang)}`;
  }
  function tick() {  // the countdown, on the hub's clock (offset measured at each message)
    const el = $("countdown");
    if (!el || !state || !state.poll || !state.poll.countdown_ends) return;
    const left = Math.max(0, Math.ceil(state.poll.countdown_ends - (Date.now() / 1000 - clockOffset)));
    el.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  }
  let clockOffset = 0;
  setInterval(() => { status(); tick(); }, 250);
  setInterval(() => { page++; if (location.hash === "#ranking") render(); }, 10000);
  window.addEventListener("hashchange", render);

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live");
    let first = true;  // a connection's first message is the whole state; later ones omit unchanged parts
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (first || msg.version > state.version) {
        state = first ? msg : { ...state, ...msg }; first = false;
        lastMessage = Date.now(); clockOffset = Date.now() / 1000 - msg.at;
        render(); tick(); window.__clickerVersion = msg.version;
      }
    };
    ws.onclose = () => setTimeout(connect, 1000);  // reconnect and resync from the snapshot
  }
  connect();
})();
