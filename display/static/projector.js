/* The projector: draws the state the hub sends on /ws/live; computes nothing about results.
   Every view fills the screen without scrolling: the keypad grid and the ranking's rows per
   page are sized from the room left to them. The main boxes carry data-box (tests check that
   each lies inside the viewport and that none overlaps another). */
(function () {
  const C = Clicker, $ = C.$, esc = C.esc;
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || localStorage.getItem("lang") || "fr";
  let sound = params.get("sound") === "1";
  let state = null, page = 0, lastPoll = null, beeped = new Set();
  const T = () => STRINGS[lang] || STRINGS.fr;
  const theme = params.get("theme");
  if (theme === "dark" || (theme !== "light" && window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches)) {
    document.body.classList.add("dark");
  }

  $("lang").onclick = () => { lang = lang === "fr" ? "en" : "fr"; localStorage.setItem("lang", lang); render(); };
  $("sound").onclick = () => { sound = !sound; if (sound) C.unlockSound(); paintSound(); };
  function paintSound() {
    $("sound").setAttribute("aria-pressed", String(sound));
    $("sound").textContent = sound ? T().soundOn : T().soundOff;
  }

  const grades = () => C.grades(state, lang);
  const ficheName = (p) => `<span class="num">${T().fiche} ${p.number}</span> — ${esc(p.title)}`;
  const roundTag = (poll) => poll && poll.round > 1 ? `<span class="round">${T().round(poll.round)}</span>` : "";
  const view = () => (params.get("view") || (location.hash === "#ranking" ? "ranking" : "") || (state.display && state.display.view) || "auto");
  const assembly = () => (params.has("assembly") ? params.get("assembly") : (state.display && state.display.assembly) || "");

  /* --- waiting: the fiche up next, and the keys ------------------------------------------------- */
  function waiting(poll) {
    const p = C.proposal(state, state.current);
    const cs = C.colours(state.session.grades.length), g = grades();
    const reset = poll && poll.state === "reset" ? `<p class="notice" data-box="notice">${esc(T().reset(poll.poll_id, poll.reset_reason))}</p>` : "";
    const sub = [p.transition ? `${T().transition} ${esc(p.transition)}` : "", esc(p.subject || "")].filter(Boolean).join(" · ");
    return `<h2 class="fiche clamp" data-box="fiche">${ficheName(p)}</h2>` +
      (sub ? `<p class="sub ellipsis" data-box="sub">${sub}</p>` : "") + reset +
      `<p class="soon" data-box="soon">${T().soon} ${T().how}</p>` +
      `<div class="keys" data-box="keys">` + state.session.grade_keys.split("").map((k, i) =>
        `<b style="background:${cs[i]};color:${C.ink(cs[i])}">${esc(k)}</b><span>${esc(g[i])}</span>`).join("") + `</div>`;
  }

  /* --- voting: turnout, countdown and the keypad grid (numbers only, never a grade) ----------- */
  function voting(poll) {
    const p = C.proposal(state, poll.items[0]);
    const head = poll.mode === "consent"
      ? `${T().consent}${poll.items[0] && state.proposals.some((x) => x.number === poll.items[0]) ? ` — ${ficheName(p)}` : ""}`
      : ficheName(p) + roundTag(poll);
    const voted = new Set(poll.voted || []);
    const countdown = poll.countdown_ends && poll.state === "open" ? `<p class="countdown" id="countdown"></p>` : "";
    return `<h2 class="fiche clamp" data-box="fiche">${head}</h2>` +
      `<div class="count" data-box="count"><p class="turnout" id="turnout">${T().voted(poll.turnout, state.session.electorate)}</p>${countdown}</div>` +
      (poll.state === "closing" ? `<p class="phase" data-box="phase">${T().closing}</p>` : "") +
      `<div class="grid" id="grid" data-box="grid">` +
      state.session.keypads.map((n) => `<span class="${voted.has(n) ? "on" : ""}" data-n="${n}">${n}</span>`).join("") + `</div>`;
  }
  /* the grid's columns: the most columns' worth of cells as large as the room allows */
  function fitGrid() {
    const grid = $("grid");
    if (!grid) return;
    const n = grid.children.length || 1, gap = parseFloat(getComputedStyle(grid).columnGap) || 0;
    const w = grid.clientWidth, h = grid.clientHeight;
    let best = { size: 0, cols: 1 };
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const size = Math.min((w - gap * (cols - 1)) / cols, (h - gap * (rows - 1)) / rows);
      if (size > best.size) best = { size, cols };
    }
    const rows = Math.ceil(n / best.cols), cell = Math.floor(best.size);
    grid.style.gridTemplateColumns = `repeat(${best.cols}, ${cell}px)`;
    grid.style.gridAutoRows = `${cell}px`;
    grid.style.fontSize = `${Math.max(6, Math.floor(cell * (String(Math.max(...state.session.keypads, 0)).length > 3 ? 0.34 : 0.45)))}px`;
    grid.dataset.cols = best.cols;
    grid.dataset.rows = rows;
  }

  /* --- closed, before the reveal: nothing about the result ------------------------------------- */
  function closed(poll) {
    const p = C.proposal(state, poll.items[0]);
    const what = poll.mode === "consent" ? T().consentClosed : T().closedTitle;
    const timeUp = poll.closed_by === "countdown" ? `<p class="timeup" data-box="timeup">${T().timeUp}</p>` : "";
    return `<h2 class="fiche clamp" data-box="fiche">${poll.mode === "consent" ? T().consent : ficheName(p) + roundTag(poll)}</h2>` +
      `<div class="closed" data-box="closed">${timeUp}<h2>${what}</h2><p>${T().closedNext}</p>` +
      `<p>${T().voted(poll.turnout, state.session.electorate)}</p></div>`;
  }

  /* --- revealed grades poll: the majority grade first ------------------------------------------- */
  function groupsOf(poll, item) {
    const g = poll.results.groups;
    return (g && (Array.isArray(g) ? g : g[String(item)])) || [];
  }
  function groupName(g) {
    const names = g.assemblies.map((a) => a || T().assembly(""));
    return g.merged ? T().merged(names) : T().assembly(g.assemblies[0]);
  }
  function result(poll) {
    const row = poll.results.items[0], p = C.proposal(state, row.number);
    const groups = groupsOf(poll, row.number), chosen = assembly(), min = state.session.min_group || 5;
    let main = row, mainName = "", lines = [];
    if (chosen === "*") {
      lines = groups;
    } else if (chosen) {
      const mine = groups.find((g) => g.assemblies.includes(chosen));
      if (mine) { main = mine.row; mainName = groupName(mine); }
    }
    const g = main.gauge, names = grades();
    const words = main.majority_grade_index == null ? T().noJudgment :
      `<b>${T().above(C.pct(g.proponents_percent, lang), esc(names[main.majority_grade_index]))}</b>, <b>${T().below(C.pct(g.opponents_percent, lang))}</b>`;
    const electorate = main === row ? poll.results.electorate : groups.find((x) => x.row === main).members;
    const judged = main.judgments;
    const missingHow = state.session.missing ? T().missingHow[state.session.missing] : "";
    const who = `${T().voters(judged, electorate)} · ${T().missing(Math.max(0, electorate - judged), missingHow)}`;
    const sign = g ? (g.sign === "+" ? T().gaugePlus : T().gaugeMinus) : "";
    const rk = (state.ranking && state.ranking.ranking) || [], i = rk.findIndex((r) => r.number === row.number);
    const why = main === row && i > 0 && rk[i - 1].versus_next ? rk[i - 1].versus_next[lang] : (main === row && i >= 0 && rk[i].versus_next ? rk[i].versus_next[lang] : "");
    let groupHtml = "";
    if (chosen && !groups.length) groupHtml = `<p class="note" data-box="groups">${T().noGroups(min)}</p>`;
    else if (chosen === "*") {
      groupHtml = `<div class="groups" data-box="groups">` + lines.map((x) =>
        `<div class="name ellipsis">${esc(groupName(x))} <small>${x.voters}/${x.members}</small></div>` +
        `<div class="gcell">${C.gradeHtml(x.row, state, lang)}</div>${C.barHtml(x.row.balanced_tally, state, lang)}`).join("") + `</div>` +
        (lines.some((x) => x.merged) ? `<p class="note" data-box="merged">${T().mergedWhy(min)}</p>` : "");
    } else if (mainName) {
      groupHtml = `<div class="groups" data-box="groups"><div class="name ellipsis plenary">${T().plenary}</div>` +
        `<div class="gcell">${C.gradeHtml(row, state, lang)}</div>${C.barHtml(row.balanced_tally, state, lang)}</div>` +
        (groups.find((x) => x.row === main).merged ? `<p class="note" data-box="merged">${T().mergedWhy(min)}</p>` : "");
    }
    const headLine = C.headShort(state.journal);
    return `<p class="fiche-line ellipsis" data-box="fiche">${ficheName(p)}${roundTag(poll)}${mainName ? ` · ${esc(mainName)}` : ""}</p>` +
      `<div class="verdict" data-box="verdict"><span class="label">${T().majority}</span>${C.gradeHtml(main, state, lang)}</div>` +
      `<div data-box="profile">${C.barHtml(main.balanced_tally, state, lang)}</div>` +
      `<div class="legend" data-box="legend">${C.legendHtml(state, lang)}</div>` +
      `<p class="words" data-box="words">${words}. ${who}.</p>` +
      (sign ? `<p class="note" data-box="gauge">${sign}</p>` : "") + groupHtml +
      (why && !groupHtml ? `<p class="explain clamp" data-box="explain">${esc(why)}</p>` : "") +
      (headLine ? `<p class="head fine" id="journal-head" data-box="head">${T().journal} ${esc(headLine)}</p>` : "");
  }

  /* --- consent round, revealed ------------------------------------------------------------------ */
  const CARD = { green: "#15803d", yellow: "#fee08b", orange: "#fc8d59", red: "#d73027" };
  function consent(poll) {
    const r = poll.results, c = r.colours, total = Object.values(c).reduce((a, b) => a + b, 0) || 1;
    const p = C.proposal(state, poll.items[0]), onFiche = state.proposals.some((x) => x.number === poll.items[0]);
    const groups = assembly() === "*" ? (r.groups || []) : [];
    return `<h2 class="fiche clamp" data-box="fiche">${T().consent}${onFiche ? ` — ${ficheName(p)}` : ""}</h2>` +
      `<div class="colours" data-box="colours">` + ["green", "yellow", "orange", "red"].map((k) =>
        `<div style="background:${CARD[k]}${k === "green" || k === "red" ? ";color:#fff" : ""}"><b>${c[k]} <small>${C.pct(100 * c[k] / total, lang, 0)}</small></b><span>${T().colours[k]} · ${T().colourMeaning[k]}</span></div>`).join("") + `</div>` +
      (groups.length ? `<div class="cgroups" data-box="groups">` + groups.map((g) => `<span class="ellipsis">${esc(groupName(g))}</span>` +
        ["green", "yellow", "orange", "red"].map((k) => `<span>${T().colours[k]} ${g.colours[k]}</span>`).join("")).join("") + `</div>` : "") +
      `<h3 class="queue-title" data-box="queue-title">${T().queue}</h3>` +
      `<div class="queue" id="queue" data-box="queue">` + (r.speaking_queue.length ? r.speaking_queue.map((q) =>
        `<span style="background:${CARD[q.colour]}${q.colour === "red" ? ";color:#fff" : ""}" data-colour="${q.colour}">${q.number}</span>`).join("") : `<em>${T().queueEmpty}</em>`) + `</div>`;
  }
  /* the queue keeps its order; what does not fit is counted, not cut */
  function fitQueue() {
    const q = $("queue");
    if (!q || q.scrollHeight <= q.clientHeight + 1) return;
    const chips = [...q.querySelectorAll("span[data-colour]")];
    const more = document.createElement("span");
    more.className = "more";
    q.appendChild(more);
    let hidden = 0;
    while (chips.length && q.scrollHeight > q.clientHeight + 1) {
      chips.pop().remove();
      hidden++;
      more.textContent = `+${hidden}`;
    }
  }

  /* --- ranking: titles on up to two lines, the transition filter ignores case and accents -------- */
  function rankingRows() {
    const chosen = assembly();
    if (chosen && chosen !== "*") {
      const a = (state.rankings_by_assembly || []).find((x) => x.assembly === chosen);
      return { rows: a ? a.ranking : [], title: T().assembly(chosen), merged: a ? a.merged.length : 0 };
    }
    return { rows: (state.ranking && state.ranking.ranking) || [], title: chosen === "*" ? T().all : "", merged: 0 };
  }
  function ranking() {
    const filter = params.get("transition") || "";
    const { rows: all, title, merged } = rankingRows();
    const rows = filter ? all.filter((r) => C.fold(r.transition) === C.fold(filter)) : all;
    // every assembly's grade beside the plenary's: only the assemblies ranked alone somewhere (an
    // assembly always merged for the secret ballot would be a column of dashes)
    const extra = assembly() === "*" ? (state.rankings_by_assembly || []).filter((a) => a.ranking.length) : [];
    const head = `<div class="rank-head" data-box="rank-head"><h2>${T().ranking}${title ? ` — ${esc(title)}` : ""}${filter ? ` — ${esc(filter)}` : ""}</h2><small id="rank-page"></small></div>`;
    if (!rows.length) {
      const known = [...new Set(((state.proposals) || []).map((p) => p.transition).filter(Boolean))];
      const hint = filter && all.length ? T().noMatch(filter, known) : T().noRanking;
      return head + `<p class="hint" id="hint" data-box="hint">${esc(hint)}</p>`;
    }
    const tied = (r) => rows.filter((x) => x.rank === r.rank).length > 1;
    const gradeOf = (a, n) => { const x = a.ranking.find((r) => r.number === n); return x ? C.gradeHtml(x, state, lang) : C.gradeHtml({}, state, lang); };
    const dashes = extra.some((a) => rows.some((r) => !a.ranking.some((x) => x.number === r.number)));
    // with the assemblies' columns, a fiche takes two lines: its title across the table, then its grades
    const wide = extra.length > 0;
    const cells = rows.map((r) => {
      const p = C.proposal(state, r.number), name = p.title || r.title || "";
      const rank = `<span class="r">${r.rank}${tied(r) ? `<small>${T().ex}</small>` : ""}</span><span class="n">${T().fiche} ${r.number}</span>` +
        `<span class="t clamp" title="${esc(name)}">${esc(name)}</span>`;
      const grades = `<span class="b">${C.barHtml(r.balanced_tally, state, lang)}</span><span class="g">${C.gradeHtml(r, state, lang)}</span>` +
        extra.map((a) => `<span class="ga" data-col="${esc(a.assembly)}">${gradeOf(a, r.number)}</span>`).join("");
      return rank + (wide ? `<span class="sp"></span>` : "") + grades;
    });
    const header = wide ? `<span class="sp hd"></span><span class="hd"></span><span class="hd">${T().plenary}</span>` +
      extra.map((a) => `<span class="hd ellipsis" data-col="${esc(a.assembly)}">${esc(a.assembly)}</span>`).join("") : "";
    return head + (merged ? `<p class="note" data-box="merged">${T().assemblyMerged(merged, state.session.min_group || 5)}</p>` : "") +
      `<div class="table" id="table" data-box="table"><div class="rows${wide ? " wide" : ""}" id="rows"` +
      `${wide ? ` style="--extra: ${extra.length}"` : ""}>${header}</div></div>` +
      (dashes ? `<p class="note" data-box="dashes">${T().dashMeans()}</p>` : "") +
      `<template id="all-rows">${cells.map((c) => `<div class="row">${c}</div>`).join("")}</template>`;
  }
  /* as many fiches as the page has room for (a title takes one line or two); the pages turn every
     10 s. The columns are sized once on every row, so they do not move from page to page. */
  function fitRanking() {
    const box = $("table"), list = $("rows"), tpl = $("all-rows");
    if (!box || !list || !tpl) return;
    list.style.gridTemplateColumns = "";
    const rows = [...tpl.content.children].map((r) => r.cloneNode(true));
    list.append(...rows);
    list.style.gridTemplateColumns = getComputedStyle(list).gridTemplateColumns;
    const extent = (row) => {
      const rs = [...row.children].map((c) => c.getBoundingClientRect());
      return { top: Math.min(...rs.map((r) => r.top)), bottom: Math.max(...rs.map((r) => r.bottom)) };
    };
    const spans = rows.map(extent), room = box.getBoundingClientRect().bottom - spans[0].top;
    const pages = [];
    let start = 0;
    for (let i = 1; i <= rows.length; i++) {
      if (i === rows.length || spans[i].bottom - spans[start].top > room) { pages.push([start, i]); start = i; }
    }
    const [from, to] = pages[page % pages.length];
    rows.forEach((r, i) => { if (i < from || i >= to) r.remove(); });
    $("rank-page").textContent = pages.length > 1 ? T().page((page % pages.length) + 1, pages.length) : "";
    box.dataset.perPage = to - from;
  }

  function render() {
    if (!state || !state.session) return;
    document.documentElement.lang = lang;
    $("lang").textContent = T().other;
    $("title").textContent = state.session.title;
    paintSound();
    const poll = state.poll;
    // a closed or revealed poll stays up until the facilitator puts up another fiche
    const up = poll && (poll.items.includes(state.current) || (poll.mode === "consent" && !state.proposals.some((p) => p.number === poll.items[0])));
    const plenary = typeof Plenary === "undefined" ? null : Plenary.projector(state, lang, ranking);  // clicker plenary
    let html, kind;
    if (C.active(poll)) [html, kind] = [voting(poll), "voting"];
    else if (plenary) [html, kind] = [plenary, "plenary"];
    else if (view() === "ranking") [html, kind] = [ranking(), "ranking"];
    else if (up && poll.state === "closed") [html, kind] = [closed(poll), "closed"];
    else if (up && poll.state === "revealed" && poll.results && poll.results.items) [html, kind] = [result(poll), "revealed"];
    else if (up && poll.state === "revealed" && poll.results && poll.results.colours) [html, kind] = [consent(poll), "consent"];
    else [html, kind] = [waiting(poll), "waiting"];
    $("view").className = `v-${kind}`;
    document.body.dataset.view = kind;
    $("view").innerHTML = html;
    fitGrid();
    fitRanking();
    fitQueue();
    C.fitLabels($("view"));
    status();
    tick();
  }
  function status() {
    if (!state || !state.receivers) return;
    const up = state.receivers.filter((r) => r.connected).length;
    const age = (Date.now() - link.lastMessage) / 1000;
    const el = $("status");
    el.classList.toggle("stale", age > 5);
    $("status-text").textContent = age > 5 ? T().frozen
      : `${up}/${state.receivers.length} ${T().receivers} · ${T().updated} ${new Date(link.lastMessage).toLocaleTimeString(lang)}`;
  }
  /* the countdown on the hub's clock; at zero it says so, and sounds once */
  function tick() {
    const el = $("countdown"), poll = state && state.poll;
    if (poll && poll.closed_by === "countdown" && !beeped.has(poll.poll_id)) end(poll);
    if (!el || !poll || !poll.countdown_ends) return;
    const left = C.secondsLeft(poll.countdown_ends, link);
    el.textContent = left > 0 ? C.clock(left) : T().timeUp;
    el.classList.toggle("ended", left === 0);
    if (left === 0 && !beeped.has(poll.poll_id)) end(poll);
  }
  function end(poll) {
    beeped.add(poll.poll_id);
    if (sound) C.beep();
    else window.__clickerBeeps = (window.__clickerBeeps || 0) + 1;  // seen, not heard: sound is off
  }
  setInterval(() => { if (state) { status(); tick(); } }, 250);
  setInterval(() => { page++; if (state && $("table")) render(); }, 10000);
  window.addEventListener("hashchange", render);
  window.addEventListener("resize", render);

  const link = C.connect((s) => {
    if (s.poll && lastPoll !== s.poll.poll_id) { lastPoll = s.poll.poll_id; page = 0; }
    state = s;
    render();
  });
  C.ready.then(render);
})();
