/* Shared by the projector and the console: the live connection (parts merged as the hub sends
   them), the grade palette, number formatting and the sound that marks a countdown's end. The
   pages compute nothing about results: they draw what the hub sends. */
const Clicker = (() => {
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const $ = (id) => document.getElementById(id);

  /* 32,9 % in French (narrow no-break space), 32.9% in English */
  function pct(x, lang, digits = 1) {
    const s = Number(x).toFixed(digits);
    return lang === "fr" ? s.replace(".", ",") + "\u202f%" : s + "%";
  }
  /* case and accents ignored: "ecologique" and "Écologique" match "écologique" */
  const fold = (s) => String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();

  let palette = {};
  const ready = fetch("/static/palette.json").then((r) => r.json()).then((p) => { palette = p.grades; }).catch(() => {});
  const colours = (n) => palette[String(n)] || [];

  /* A colour's text colour: dark on pale segments, light on dark ones. */
  function ink(hex) {
    const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    if (!m) return "#111";
    const [r, g, b] = m.slice(1).map((h) => parseInt(h, 16) / 255);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 ? "#111" : "#fff";
  }

  /* The live state: the first message of a connection is whole; later ones omit the parts
     (session, history, ...) that did not change, so they are merged into what we hold. */
  function connect(onState) {
    const link = { state: null, lastMessage: 0, clockOffset: 0 };
    function open() {
      const channel = new URLSearchParams(location.search).get("channel");  // a plenary's room, paper, online
      const path = "/ws/live" + (channel ? "?channel=" + encodeURIComponent(channel) : "");
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
      let first = true;
      ws.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (first || !link.state || msg.version > link.state.version) {
          link.state = first ? msg : { ...link.state, ...msg };
          first = false;
          link.lastMessage = Date.now();
          link.clockOffset = Date.now() / 1000 - msg.at;
          window.__clickerVersion = msg.version;
          onState(link.state);
        }
      };
      ws.onclose = () => setTimeout(open, 1000);  // reconnect; the next first message resyncs
    }
    open();
    return link;
  }

  /* Seconds left on the hub's clock (the offset is measured at each message). */
  const secondsLeft = (ends, link) => Math.max(0, Math.ceil(ends - (Date.now() / 1000 - link.clockOffset)));
  const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

  /* Three short tones: the end of a countdown, heard in the room. */
  let audio = null;
  function unlockSound() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (_) { audio = null; }
    return audio;
  }
  function beep() {
    window.__clickerBeeps = (window.__clickerBeeps || 0) + 1;
    const ctx = audio || unlockSound();
    if (!ctx) return false;
    const t0 = ctx.currentTime;
    [0, 0.35, 0.7].forEach((dt, i) => {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = i === 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, t0 + dt);
      gain.gain.exponentialRampToValueAtTime(0.4, t0 + dt + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + dt + 0.28);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + dt);
      osc.stop(t0 + dt + 0.3);
    });
    window.__clickerSounded = (window.__clickerSounded || 0) + (ctx.state === "running" ? 1 : 0);
    return true;
  }

  const grades = (state, lang) => (lang === "en" ? state.session.grades_en : state.session.grades) || state.session.grades;
  const proposal = (state, n) => (state.proposals || []).find((p) => p.number === n) || { number: n, title: "", transition: "" };
  const active = (poll) => !!poll && (poll.state === "open" || poll.state === "closing");
  const headShort = (j) => (j && j.seq ? `${j.seq}:${String(j.head).slice(0, 16)}` : "");

  /* The majority grade and its gauge, typeset apart so "Passable −" never reads "Passable-". */
  function gradeHtml(row, state, lang, cls = "grade") {
    if (row.majority_grade_index == null) return `<span class="${cls} none">—</span>`;
    const i = row.majority_grade_index, c = colours(state.session.grades.length)[i] || "#ccc";
    const sign = row.gauge ? row.gauge.sign : "";
    const mark = sign === "+" ? "+" : sign ? "\u2212" : "";
    return `<span class="${cls}" style="background:${c};color:${ink(c)}">${esc(grades(state, lang)[i])}</span>` +
      (mark ? `<span class="sign ${sign === "+" ? "plus" : "minus"}">${mark}</span>` : "");
  }

  /* A merit bar, worst grade on the left; a share is written only where it fits (the page
     hides the labels that overflow their segment after layout: see fitLabels). */
  function barHtml(tally, state, lang, cls = "bar") {
    const total = tally.reduce((a, b) => a + b, 0) || 1, cs = colours(state.session.grades.length), g = grades(state, lang);
    return `<div class="${cls}" role="img">` + tally.map((c, i) => c ? `<div class="seg" style="width:${100 * c / total}%;background:${cs[i]};color:${ink(cs[i])}"
      title="${esc(g[i])}"><span>${pct(100 * c / total, lang, 0)}</span></div>` : "").join("") + `<i class="median"></i></div>`;
  }
  /* a share is written only where it fits in its segment, and never under the 50 % line: it
     moves to the side of its segment away from the line, or is left out */
  function fitLabels(root) {
    for (const bar of root.querySelectorAll(".bar")) {
      const line = bar.querySelector(".median"), mid = line ? line.getBoundingClientRect() : null;
      for (const span of bar.querySelectorAll(".seg > span")) {
        const seg = span.parentElement;
        seg.style.justifyContent = "";
        span.style.visibility = "";
        span.style.padding = "";
        if (span.scrollWidth > seg.clientWidth - 2 || span.offsetHeight > seg.clientHeight) { span.style.visibility = "hidden"; continue; }
        if (!mid) continue;
        const hits = () => { const r = span.getBoundingClientRect(); return r.right > mid.left - 2 && r.left < mid.right + 2; };
        if (!hits()) continue;
        const s = seg.getBoundingClientRect(), leftRoom = mid.left - s.left, rightRoom = s.right - mid.right;
        seg.style.justifyContent = leftRoom > rightRoom ? "flex-start" : "flex-end";
        span.style.padding = "0 .3em";
        if (hits() || span.getBoundingClientRect().width > Math.max(leftRoom, rightRoom) - 2) span.style.visibility = "hidden";
      }
    }
  }
  function legendHtml(state, lang) {
    const cs = colours(state.session.grades.length);
    return grades(state, lang).map((g, i) => `<span><i style="background:${cs[i]}"></i>${esc(g)}</span>`).join("");
  }

  return { esc, $, pct, fold, ready, colours, ink, connect, secondsLeft, clock, beep, unlockSound, grades, proposal,
    active, headShort, gradeHtml, barHtml, fitLabels, legendHtml };
})();
