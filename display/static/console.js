/* The facilitator's console: buttons, a click on a fiche and shortcuts call the control API with
   the token from the URL (#token=...); the view follows /ws/live like the projector. Every
   refusal of the hub is worded in the console's language from its code; successes and errors
   look different. Before anything that cannot be undone or that leaves a vote, it asks. */
(function () {
  const C = Clicker, $ = C.$, esc = C.esc;
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  let lang = localStorage.getItem("lang") || "fr";
  let state = null, previewFor = null, countdownSeen = new Set();
  const T = () => CONSOLE[lang] || CONSOLE.fr;
  const P = () => STRINGS[lang] || STRINGS.fr;

  /* --- messages: success and error look different ---------------------------------------------- */
  function say(kind, text, label = "") {
    const bar = $("bar");
    bar.className = kind;
    bar.dataset.seq = String(Number(bar.dataset.seq || 0) + 1);  // each message counted (tests wait for theirs)
    $("msg-label").textContent = label;
    $("msg").textContent = text;
  }
  function refusal(status, doc) {
    const e = T().errors;
    if (status === 401) return e[401]();
    if (status === 503) return e[503](doc.detail || "");
    if (doc.code && e[doc.code]) return e[doc.code](doc.params || {});
    const detail = Array.isArray(doc.detail) ? doc.detail.map((d) => d.msg).join("; ") : doc.detail;
    return detail || String(status);
  }
  async function request(method, path, body) {
    try {
      const r = await fetch(path, { method, headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: body ? JSON.stringify(body) : undefined });
      const doc = await r.json().catch(() => ({}));
      return { ok: r.ok, status: r.status, doc };
    } catch (_) {
      return { ok: false, status: 0, doc: { detail: T().errors.network() } };
    }
  }
  /* a facilitator action: on success the message says what happened, else why not */
  async function act(path, body, success) {
    const r = await request("POST", path, body);
    if (r.ok) { if (success) say("ok", success(r.doc)); }
    else say("error", refusal(r.status, r.doc));
    return r;
  }

  /* --- asking before acting ------------------------------------------------------------------------ */
  function ask(text, yes, reason = false) {
    return new Promise((resolve) => {
      const d = $("ask");
      $("ask-text").textContent = text;
      $("ask-yes").textContent = yes;
      $("ask-reason-label").hidden = !reason;
      $("ask-reason").value = "";
      $("ask-error").textContent = "";
      const done = (answer) => { d.close(); resolve(answer); };
      $("ask-no").onclick = () => done(null);
      $("ask-yes").onclick = (e) => {
        e.preventDefault();
        const why = $("ask-reason").value.trim();
        if (reason && !why) { $("ask-error").textContent = T().needReason; return; }
        done(reason ? why : true);
      };
      d.oncancel = () => resolve(null);
      d.showModal();
      (reason ? $("ask-reason") : $("ask-yes")).focus();
    });
  }

  const poll = () => state && state.poll;
  const active = () => C.active(poll());
  const whenState = (pred, ms = 15000) => new Promise((resolve) => {
    const t0 = Date.now();
    const check = () => (state && pred(state)) ? resolve(true) : Date.now() - t0 > ms ? resolve(false) : setTimeout(check, 100);
    check();
  });
  /* a fiche's earlier grades polls that count (not reset): opening again makes a second round */
  const earlier = (n) => (state.polls || []).filter((p) => p.mode !== "consent" && p.state !== "reset" && p.items.includes(n));

  async function open(mode = "grades") {
    const body = { mode };
    const s = Number($("countdown").value);
    if (s > 0) body.countdown_s = s;
    if ($("countdown-close").checked) body.countdown_close = true;
    if (mode === "grades" && !active()) {
      const before = earlier(state.current);
      if (before.length && !(await ask(T().confirmRound(state.current, before[before.length - 1].poll_id), T().doRound))) return;
    }
    return act("/api/polls/open", body, (d) => (mode === "consent" ? T().ok.consent(d.poll_id) : T().ok.open(d.poll_id)));
  }
  const close = () => act("/api/polls/close", null, (d) => T().ok.close(d.poll_id));
  const reveal = () => poll() && act(`/api/polls/${poll().poll_id}/reveal`, null, (d) => T().ok.reveal(d.poll_id));

  /* moving away from an open poll: refused by the hub; offered here as close-then-move */
  async function move(path, target) {
    const r = await act(path, null, (d) => T().ok.select(d.current));
    if (r.ok || r.doc.code !== "poll_active") return;
    const id = r.doc.params.poll_id;
    const to = target ?? "";
    if (!(await ask(T().confirmMove(id, to), T().doMove))) return;
    if (r.doc.params.state === "open" && !(await act("/api/polls/close", null, null)).ok) return;
    await whenState((s) => !C.active(s.poll));
    await act(path, null, (d) => T().ok.select(d.current));
  }
  const neighbour = (delta) => {
    const order = state.proposals.map((p) => p.number), i = order.indexOf(state.current) + delta;
    return order[i];
  };

  async function reset() {
    const p = poll();
    if (!p || p.state === "reset") { say("error", T().nothingToReset); return; }
    const what = p.mode === "consent" ? P().consent : `${P().fiche} ${p.items.join(", ")}`;
    const why = await ask(T().confirmReset(p.poll_id, what), T().doReset, true);
    if (why) await act(`/api/polls/${p.poll_id}/reset`, { reason: why }, (d) => T().ok.reset(d.poll_id));
  }

  $("open").onclick = () => open("grades");
  $("consent").onclick = () => open("consent");
  $("close").onclick = close;
  $("reveal").onclick = reveal;
  $("reset").onclick = reset;
  $("next").onclick = () => move("/api/proposals/next", neighbour(1));
  $("prev").onclick = () => move("/api/proposals/previous", neighbour(-1));
  $("fiches").onclick = (e) => {
    const li = e.target.closest("li[data-n]");
    if (li && Number(li.dataset.n) !== state.current) move(`/api/proposals/${li.dataset.n}/select`, Number(li.dataset.n));
  };
  document.addEventListener("keydown", (e) => {
    if (["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(e.target.tagName) || $("ask").open) return;
    if (e.key === " ") { e.preventDefault(); active() ? close() : open("grades"); }
    else if (e.key === "Enter") { e.preventDefault(); reveal(); }
    else if (e.key === "ArrowRight") move("/api/proposals/next", neighbour(1));
    else if (e.key === "ArrowLeft") move("/api/proposals/previous", neighbour(-1));
  });
  function display() {
    const view = document.querySelector('input[name="view"]:checked').value;
    act("/api/display", { view, assembly: $("assembly").value }, () => T().ok.display);
  }
  for (const r of document.querySelectorAll('input[name="view"]')) r.onchange = display;
  $("assembly").onchange = display;
  $("lang").onclick = () => { lang = lang === "fr" ? "en" : "fr"; localStorage.setItem("lang", lang); words(); render(); };

  /* The file goes as it is (its bytes): the hub decodes and checks it exactly as
     `clicker serve --session` does, so a file is refused with the same line in both places. */
  async function upload(input, path, extra = "") {
    const f = input.files[0];
    if (!f) return;
    const format = f.name.toLowerCase().endsWith(".json") ? "json" : "csv";
    const query = `?format=${format}&name=${encodeURIComponent(f.name)}${extra}`;
    try {
      const r = await fetch(path + query, { method: "POST", body: f,
        headers: { "Authorization": "Bearer " + token, "Content-Type": format === "json" ? "application/json" : "text/csv" } });
      const doc = await r.json().catch(() => ({}));
      if (r.ok) say("ok", T().ok.imported(f.name, doc.proposals ?? doc.keypads ?? doc.ballots));
      else say("error", r.status === 422 ? (doc.detail || "") : refusal(r.status, doc), r.status === 422 ? T().importRefused : "");
    } catch (_) { say("error", T().errors.network()); }
    input.value = "";
  }
  $("fiches-file").onchange = (e) => upload(e.target, "/api/session/proposals");
  $("roster-file").onchange = (e) => upload(e.target, "/api/session/roster");

  /* --- drawing ------------------------------------------------------------------------------------- */
  function words() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = T()[el.dataset.i18n];
    for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = T()[el.dataset.i18nTitle];
    $("lang").textContent = lang === "fr" ? "EN" : "FR";
  }
  function pollState(p) { return T().states[p.state] || p.state; }
  function render() {
    if (!state || !state.session) return;
    $("title").textContent = state.session.title;
    const p = poll(), cur = C.proposal(state, state.current);
    let now = `<h3>${esc(T().upNow(cur.number, cur.title))}</h3>`;
    if (p && p.state !== "reset") {
      const kind = T().kinds[p.mode] || p.mode;
      now += `<p class="state" id="pollstate">${T().pollLine(p.poll_id, kind, esc(pollState(p)))}${p.round > 1 ? `<span class="round">${T().round(p.round)}</span>` : ""}` +
        ` — ${T().turnout(p.turnout, state.session.electorate)}<span class="countdown" id="countdown-left"></span></p>`;
    } else now += `<p class="state" id="pollstate">${T().noPoll}</p>`;
    $("now").innerHTML = now;
    $("open").disabled = active();
    $("consent").disabled = active();
    $("close").disabled = !(p && p.state === "open");
    $("reveal").disabled = !(p && p.state === "closed");
    $("reset").disabled = !(p && p.state !== "reset");

    const last = {};
    for (const q of state.polls || []) for (const n of q.items) last[n] = q;
    if (p) for (const n of p.items) last[n] = p;  // the live one may be newer
    $("fiches").innerHTML = state.proposals.map((f) => {
      const q = last[f.number];
      const tag = q && q.mode !== "consent" ? `<span class="tag ${q.state}">${esc(pollState(q))}${q.round > 1 ? " · " + T().round(q.round) : ""}</span>` : "";
      return `<li class="${f.number === state.current ? "current" : ""}" data-n="${f.number}">${esc(T().upNow(f.number, f.title))}${tag}</li>`;
    }).join("");
    const cur_li = $("fiches").querySelector("li.current");
    if (cur_li && cur_li.dataset.n !== String(render.scrolledTo)) { cur_li.scrollIntoView({ block: "nearest" }); render.scrolledTo = cur_li.dataset.n; }

    const h = T().hcols;
    $("history").innerHTML = `<tr>${h.map((x) => `<th>${x}</th>`).join("")}</tr>` + [...(state.polls || [])].reverse().map((q) => {
      const live = p && p.poll_id === q.poll_id ? p : q;
      const what = q.mode === "consent" ? T().kinds.consent : q.items.join(", ");
      return `<tr class="${live.state}"><td>${q.poll_id}</td><td>${esc(what)}</td><td>${q.mode === "consent" ? "" : live.round}</td>` +
        `<td class="why">${esc(pollState(live))}${live.state === "reset" ? " : " + esc(live.reset_reason) : ""}</td><td>${live.turnout ?? ""}</td></tr>`;
    }).join("");

    const voted = new Set(p && active() ? p.voted : []);
    $("missing").textContent = active() ? state.session.keypads.filter((n) => !voted.has(n)).join(", ") || T().none : T().none;
    $("receivers").innerHTML = (state.receivers || []).map((r) => `<li>${esc(r.name)} : ${r.connected ? T().connected : T().disconnected.split(" ")[0] + (r.last_error ? ` (${esc(r.last_error)})` : "")}
      ${r.firmware ? "fw " + esc(r.firmware) : ""}</li>`).join("") || `<li>${T().noneReceiver}</li>`;
    $("battery").textContent = (state.low_battery || []).join(", ") || T().none;
    const j = C.headShort(state.journal);
    $("journal").textContent = j ? `${P().journal} ${j}` : "";

    const sel = $("assembly"), names = (state.session.assemblies || []).map((a) => a.name);
    const options = [["", T().plenary], ...names.map((a) => [a, T().assembly(a)]), ...(names.length ? [["*", T().allAssemblies]] : [])];
    const shown = (state.display && state.display.assembly) || "";
    if (sel.dataset.sig !== JSON.stringify([lang, options])) {
      sel.innerHTML = options.map(([v, label]) => `<option value="${esc(v)}">${esc(label)}</option>`).join("");
      sel.dataset.sig = JSON.stringify([lang, options]);
    }
    if (document.activeElement !== sel) sel.value = shown;
    const view = (state.display && state.display.view) || "auto";
    for (const r of document.querySelectorAll('input[name="view"]')) r.checked = r.value === view;
    preview();
    tick();
    if (typeof Plenary !== "undefined") {  // clicker plenary: rooms, alarms, paper sheets, online imports
      const done = () => (lang === "fr" ? "enregistré" : "recorded");
      Plenary.console(state, lang, async (path, body) => (await act(path, body, done)).ok, upload);
    }
  }

  /* the result of a closed poll, for the facilitator's eyes only, before revealing it */
  async function preview() {
    const p = poll();
    if (!p || p.state !== "closed") { previewFor = null; $("preview").innerHTML = ""; return; }
    const key = `${p.poll_id}:${lang}`;
    if (previewFor === key) return;
    previewFor = key;
    const r = await request("GET", `/api/polls/${p.poll_id}/result`);
    if (!r.ok || previewFor !== key) return;
    const d = r.doc;
    let html = `<div class="box" id="preview-box"><h4>${T().preview}</h4>`;
    if (d.items) {
      const row = d.items[0], g = row.gauge;
      html += `<div>${T().majority} : ${C.gradeHtml(row, state, lang)}</div>${C.barHtml(row.balanced_tally, state, lang)}` +
        (g ? `<div>${T().above(C.pct(g.proponents_percent, lang))} · ${T().below(C.pct(g.opponents_percent, lang))}</div>` : "");
      const groups = (d.groups && d.groups[String(row.number)]) || [];
      if (groups.length) html += `<div class="pgroups">` + groups.map((x) => `<span>${esc(x.assemblies.join(" + "))} (${x.voters})</span>` +
        `<span>${C.gradeHtml(x.row, state, lang)}</span>${C.barHtml(x.row.balanced_tally, state, lang)}`).join("") + `</div>`;
    } else if (d.colours) {
      html += `<div>${Object.entries(d.colours).map(([k, n]) => `${T().colours[k]} ${n}`).join(" · ")}</div>` +
        `<div>${T().queue} : ${d.speaking_queue.map((q) => q.number).join(", ") || T().none}</div>`;
    }
    $("preview").innerHTML = html + `</div>`;
    C.fitLabels($("preview"));
  }

  /* the countdown, seen and heard here too; the hub closes the poll at zero when asked to */
  function tick() {
    const el = $("countdown-left"), p = poll();
    if (p && p.closed_by === "countdown" && !countdownSeen.has(p.poll_id)) {
      countdownSeen.add(p.poll_id);
      C.beep();
      say("ok", T().ok.countdownClosed(p.poll_id));
    }
    if (!el || !p || !p.countdown_ends || p.state !== "open") return;
    const left = C.secondsLeft(p.countdown_ends, link);
    el.textContent = left > 0 ? ` ⏱ ${C.clock(left)}${p.countdown_close ? ` (${T().closesAtZero})` : ""}` : ` ⏱ ${T().timeUp}`;
    el.classList.toggle("ended", left === 0);
    if (left === 0 && !countdownSeen.has(p.poll_id)) { countdownSeen.add(p.poll_id); C.beep(); }
  }
  setInterval(tick, 250);
  setInterval(() => {
    const up = link.lastMessage && Date.now() - link.lastMessage < 5000;
    $("link").textContent = link.lastMessage ? (up ? T().connected : T().disconnected) : T().connecting;
    $("link").className = "pill " + (link.lastMessage ? (up ? "up" : "down") : "");
  }, 1000);
  document.addEventListener("click", () => C.unlockSound(), { once: true });

  words();
  const link = C.connect((s) => { state = s; render(); });
  C.ready.then(render);
})();
