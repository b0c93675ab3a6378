/* The facilitator's console: buttons and shortcuts call the control API with the token from
   the URL (#token=...); the view follows /ws/live like the projector. */
(function () {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  let state = null;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  async function call(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined });
    const doc = await r.json().catch(() => ({}));
    const detail = Array.isArray(doc.detail) ? doc.detail.map((d) => d.msg).join("; ") : doc.detail;
    $("msg").textContent = r.ok ? "" : detail || r.statusText;
    return r.ok;
  }
  const active = () => state && state.poll && (state.poll.state === "open" || state.poll.state === "closing");
  const openBody = () => {
    const s = Number($("countdown").value);
    return s > 0 ? { mode: "grades", countdown_s: s } : { mode: "grades" };
  };
  const openOrClose = () => active() ? call("/api/polls/close") : call("/api/polls/open", openBody());
  const reveal = () => state && state.poll && call(`/api/polls/${state.poll.poll_id}/reveal`);
  $("open").onclick = () => call("/api/polls/open", openBody());
  $("consent").onclick = () => call("/api/polls/open", { mode: "consent" });
  $("close").onclick = () => call("/api/polls/close");
  $("reveal").onclick = reveal;
  $("next").onclick = () => call("/api/proposals/next");
  $("prev").onclick = () => call("/api/proposals/previous");
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA") return;
    if (e.key === " ") { e.preventDefault(); openOrClose(); }
    else if (e.key === "Enter") { e.preventDefault(); reveal(); }
    else if (e.key === "ArrowRight") call("/api/proposals/next");
    else if (e.key === "ArrowLeft") call("/api/proposals/previous");
  });

  // The file goes as it is (its bytes): the hub decodes and checks it exactly as
  // `clicker serve --session` does, so a file is refused with the same line in both places.
  async function upload(input, path) {
    const f = input.files[0];
    if (!f) return;
    const format = f.name.toLowerCase().endsWith(".json") ? "json" : "csv";
    const query = `?format=${format}&name=${encodeURIComponent(f.name)}`;
    const r = await fetch(path + query, { method: "POST", body: f,
      headers: { "Authorization": "Bearer " + token, "Content-Type": format === "json" ? "application/json" : "text/csv" } });
    const doc = await r.json().catch(() => ({}));
    $("msg").textContent = r.ok ? `${f.name} : importé (${doc.proposals ?? doc.keypads})` : (doc.detail || r.statusText);
    input.value = "";
  }
  $("fiches-file").onchange = (e) => upload(e.target, "/api/session/proposals");
  $("roster-file").onchange = (e) => upload(e.target, "/api/session/roster");

  function render() {
    $("title").textContent = state.session.title;
    const poll = state.poll;
    $("now").innerHTML = poll ? `<p id="pollstate">Vote ${poll.poll_id} : <b>${poll.state}</b> — ${poll.turnout} / ${state.session.electorate}</p>` : "<p id=\"pollstate\">—</p>";
    const stateOf = {};
    for (const p of state.polls) for (const n of p.items) stateOf[n] = p.state;
    if (poll) for (const n of poll.items) stateOf[n] = poll.state;  // the live one may be newer
    $("fiches").innerHTML = state.proposals.map((p) => `<li class="${p.number === state.current ? "current" : ""}" data-n="${p.number}">
      Fiche ${p.number} — ${esc(p.title)} <small>${stateOf[p.number] || ""}</small></li>`).join("");
    const voted = new Set(poll && active() ? poll.voted : []);
    $("missing").textContent = active() ? state.session.keypads.filter((n) => !voted.has(n)).join(", ") : "—";
    $("receivers").innerHTML = state.receivers.map((r) => `<li>${esc(r.name)} : ${r.connected ? "connecté" : "déconnecté" + (r.last_error ? ` (${esc(r.last_error)})` : "")}
      ${r.firmware ? "fw " + esc(r.firmware) : ""} · rejetées ${r.rx_bad} · perdues ${r.dropped}</li>`).join("") || "<li>aucun</li>";
    $("battery").textContent = state.low_battery.join(", ") || "—";
    const j = state.journal;  // the head the guarantors note
    $("journal").textContent = j && j.seq ? `Journal ${j.seq}:${j.head.slice(0, 16)}` : "";
  }
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live");
    let first = true;  // a connection's first message is the whole state; later ones omit unchanged parts
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (first || m.version > state.version) { state = first ? m : { ...state, ...m }; first = false; render(); }
    };
    ws.onclose = () => setTimeout(connect, 1000);
  }
  connect();
})();
