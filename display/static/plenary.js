/* The plenary's additions to the projector and the console (clicker plenary): the view selector
   (total, each room, paper, online: ?channel=…), the votation table, the rooms' chains and the
   alarms, and at the console the paper sheets (entered, confirmed by two guarantors) and the
   online imports. Drawn only when the state carries a `plenary` object; a room hub's pages are
   unchanged. Computes nothing: every number comes from the state. */
const Plenary = (function () {
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const W = {
    fr: {
      total: "Total", electorate: "Corps électoral", table: "Tableau de la votation", fiche: "Fiche",
      alarms: (n) => `${n} alerte${n > 1 ? "s" : ""}`, halted: "interrompue", waiting: (n) => `attend l'enregistrement ${n}`,
      records: "enregistrements", ok: "à jour", open: "vote en cours", rooms: "Salles", link: "NATS",
      connected: "connecté", down: "injoignable", paper: "Papier", online: "En ligne", sheets: "Feuilles de dépouillement",
      batch: "Feuille (bureau, n°)", by: "Saisie par", ballots: "Bulletins", reason: "Motif de la correction",
      enter: "Enregistrer la feuille", guarantor: "Garant·e", confirm: "Confirmer", counted: "comptée",
      pending: (n, k) => `${n}/${k} garants`, version: "version", upload: "Import en ligne (CSV/JSON)", none: "aucune",
    },
    en: {
      total: "Total", electorate: "Electorate", table: "Votation table", fiche: "Proposal",
      alarms: (n) => `${n} alarm${n > 1 ? "s" : ""}`, halted: "halted", waiting: (n) => `waiting for record ${n}`,
      records: "records", ok: "up to date", open: "poll open", rooms: "Rooms", link: "NATS",
      connected: "connected", down: "unreachable", paper: "Paper", online: "Online", sheets: "Tally sheets",
      batch: "Sheet (stand, no.)", by: "Entered by", ballots: "Ballots", reason: "Reason for the correction",
      enter: "Record the sheet", guarantor: "Guarantor", confirm: "Confirm", counted: "counted",
      pending: (n, k) => `${n}/${k} guarantors`, version: "version", upload: "Online import (CSV/JSON)", none: "none",
    },
  };
  const params = () => new URLSearchParams(location.search);
  const view = () => params().get("channel") || "total";
  const label = (v, lang) => (v.label && (v.label[lang] || v.label.fr)) || v.id;
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);

  function selector(state, lang) {
    const here = state.plenary.view;
    return state.plenary.views.map((v) => {
      const q = new URLSearchParams(location.search);
      q.set("channel", v.id);
      return `<a href="?${esc(q.toString())}" class="${v.id === here ? "here" : ""}" data-view="${esc(v.id)}">${esc(label(v, lang))}</a>`;
    }).join("");
  }

  function roomLine(r, lang) {
    const w = W[lang];
    const state = r.halted ? `<b class="bad">${w.halted}</b> : ${esc(r.halted)}`
      : r.waiting_for ? `<b class="bad">${w.waiting(r.waiting_for)}</b>` : r.poll_open ? w.open : w.ok;
    return `<li data-room="${esc(r.room)}">${esc(r.label)} — ${r.seq} ${w.records} · ${state}</li>`;
  }

  function alarms(state, lang) {
    const p = state.plenary, w = W[lang];
    const stopped = p.rooms.filter((r) => r.halted || r.gap);
    if (!p.alarm_count && !stopped.length) return "";
    const last = p.alarms.slice(-3).reverse().map((a) => `<li>${esc(a.room)} : ${esc(a.reason)}</li>`).join("");
    return `<strong>${w.alarms(p.alarm_count)}</strong><ul>${stopped.map((r) => roomLine(r, lang)).join("")}${last}</ul>`;
  }

  function table(state, lang) {
    const w = W[lang], p = state.plenary, rows = (state.votation || {}).table || [];
    const names = {};
    for (const v of p.views) names[v.id] = label(v, lang);
    const channels = p.views.map((v) => v.id).filter((id) => id !== "total" && rows.some((r) => r.channels[id]));
    const head = `<tr><th>${w.fiche}</th>${channels.map((c) => `<th>${esc(names[c])}</th>`).join("")}<th>${w.total}</th><th>${w.electorate}</th></tr>`;
    const body = rows.map((r) => `<tr data-n="${r.number}"><td>${r.number}</td>` +
      channels.map((c) => `<td class="num">${r.channels[c] ? sum(r.channels[c]) : "—"}</td>`).join("") +
      `<td class="num"><b>${sum(r.total)}</b></td><td class="num">${r.electorate}</td></tr>`).join("");
    return `<h2>${w.table}</h2><table class="votation">${head}${body}</table>`;
  }

  // --- the projector ---------------------------------------------------------------------------

  function projector(state, lang, ranking) {
    const nav = document.getElementById("views"), banner = document.getElementById("alarms");
    if (!state.plenary) { nav.hidden = banner.hidden = true; return null; }
    nav.hidden = false;
    const room = state.plenary.views.some((v) => v.room && v.id === state.plenary.view);
    const tableLink = ` <a href="#table" class="${location.hash === "#table" ? "here" : ""}">${W[lang].table}</a>`;
    nav.innerHTML = selector(state, lang) + (room ? "" : tableLink);
    const text = alarms(state, lang);
    banner.hidden = !text;
    banner.innerHTML = text;
    if (state.poll) return null;  // a room's view with a poll: the room's own pages
    if (location.hash === "#table" && !room) return table(state, lang);
    return state.ranking.ranking.length ? ranking() : table(state, lang);
  }

  // --- the console ---------------------------------------------------------------------------------

  function consolePage(state, lang, call, upload) {
    const root = document.getElementById("plenary");
    if (!state.plenary) { root.hidden = true; return; }
    root.hidden = false;
    for (const id of ["centre", "import"]) {  // a plenary opens no poll, imports no fiches
      const el = document.getElementById(id);
      if (el) el.style.display = "none";  // not `hidden`: the console's styles set their display
    }
    const w = W[lang], p = state.plenary;
    document.getElementById("p-views").innerHTML = selector(state, lang);
    document.getElementById("p-rooms").innerHTML = p.rooms.map((r) => roomLine(r, lang)).join("");
    document.getElementById("p-link").textContent = `${w.link} : ${p.link.connected ? w.connected : w.down}` + (p.link.last_error ? ` (${p.link.last_error})` : "");
    document.getElementById("p-alarms").innerHTML = p.alarms.slice().reverse().map((a) => `<li>${esc(a.room)} : ${esc(a.reason)}</li>`).join("") || `<li>${w.none}</li>`;
    document.getElementById("p-table").innerHTML = table(state, lang);
    const paper = ((state.votation || {}).channels || {}).paper || { batches: {}, guarantors_needed: 2 };
    const sheets = Object.entries(paper.batches);
    document.getElementById("p-sheets").innerHTML = sheets.map(([name, b]) => {
      const v = b.versions[b.versions.length - 1];
      const done = v.guarantors.length >= paper.guarantors_needed;
      const status = done ? w.counted : w.pending(v.guarantors.length, paper.guarantors_needed);
      const form = done ? "" : ` <input class="g" placeholder="${w.guarantor}" size="12"> <button type="button" class="confirm">${w.confirm}</button>`;
      return `<li data-batch="${esc(name)}" data-version="${v.version}">${esc(name)} — ${w.version} ${v.version}, ${v.ballots} ${w.ballots.toLowerCase()}, ` +
        `${esc(v.by)}${v.guarantors.length ? " · " + v.guarantors.map(esc).join(", ") : ""} — <b>${status}</b>${form}</li>`;
    }).join("") || `<li>${w.none}</li>`;
    for (const li of document.querySelectorAll("#p-sheets li[data-batch]")) {
      const button = li.querySelector("button.confirm");
      if (button) button.onclick = () => call("/api/paper/confirm", {
        batch: li.dataset.batch, version: Number(li.dataset.version), guarantor: li.querySelector("input.g").value });
    }
    const grid = document.getElementById("p-grid");
    if (!grid.dataset.built) {  // the entry grid: one row per fiche, one column per grade (worst first)
      grid.dataset.built = "1";
      const grades = lang === "en" ? state.session.grades_en : state.session.grades;
      grid.innerHTML = `<tr><th>${w.fiche}</th>${grades.map((g) => `<th>${esc(g)}</th>`).join("")}</tr>` +
        state.proposals.map((f) => `<tr data-n="${f.number}"><td>${f.number}</td>` +
          grades.map(() => `<td><input type="number" min="0" step="1" size="4"></td>`).join("") + "</tr>").join("");
      document.getElementById("p-enter").onclick = async () => {
        const tallies = {};
        for (const tr of grid.querySelectorAll("tr[data-n]")) {
          const cells = [...tr.querySelectorAll("input")].map((i) => i.value.trim());
          if (cells.some((c) => c !== "")) tallies[tr.dataset.n] = cells.map((c) => (c === "" ? 0 : Number(c)));
        }
        const value = (id) => document.getElementById(id).value;
        const ok = await call("/api/paper", { batch: value("p-batch"), by: value("p-by"),
          ballots: Number(value("p-ballots")), tallies, reason: value("p-reason") });
        if (ok) for (const i of grid.querySelectorAll("input")) i.value = "";
      };
      document.getElementById("p-online").onchange = (e) => upload(e.target, "/api/online", `&by=${encodeURIComponent(document.getElementById("p-by").value || "console")}`);
    }
  }

  return { projector, console: consolePage, view };
})();
