/* Run in a projector page by tests/test_display_matrix.py: what is wrong with the layout (an
   empty list when nothing is). `expected`: {keypads, dark, lang, french}: `french`, words of the
   French interface that an English page must not show. */
(expected) => {
  const W = innerWidth, H = innerHeight, out = [];
  const doc = document.scrollingElement;
  if (doc.scrollHeight > H + 1 || doc.scrollWidth > W + 1) out.push(`the document scrolls (${doc.scrollWidth}x${doc.scrollHeight})`);
  const boxes = [...document.querySelectorAll("[data-box]")].map((e) => [e.dataset.box, e.getBoundingClientRect(), e])
    .filter(([, r]) => r.width > 0 && r.height > 0);
  for (const [name, r, e] of boxes) {
    if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5)
      out.push(`${name} lies outside the viewport (${Math.round(r.left)},${Math.round(r.top)},${Math.round(r.right)},${Math.round(r.bottom)})`);
    if (!e.matches(".clamp, .ellipsis") && (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1))
      out.push(`${name} clips its content (${e.scrollWidth}x${e.scrollHeight} in ${e.clientWidth}x${e.clientHeight})`);
  }
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, p] = boxes[i], [b, q] = boxes[j];
    const w = Math.min(p.right, q.right) - Math.max(p.left, q.left), h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (w > 0.5 && h > 0.5) out.push(`${a} overlaps ${b}`);
  }
  const grid = document.getElementById("grid");
  if (grid) {
    const g = grid.getBoundingClientRect();
    if (grid.children.length !== expected.keypads) out.push(`${grid.children.length} keypads in the grid, not ${expected.keypads}`);
    for (const c of grid.children) {
      const r = c.getBoundingClientRect();
      if (r.bottom > g.bottom + 0.5 || r.right > g.right + 0.5 || r.height < 8) { out.push(`keypad ${c.dataset.n} does not fit`); break; }
      if (c.scrollWidth > c.clientWidth + 1) { out.push(`keypad ${c.dataset.n}'s number is cut`); break; }
    }
  }
  for (const s of document.querySelectorAll(".seg > span"))
    if (s.style.visibility !== "hidden" && getComputedStyle(s).display !== "none" && s.scrollWidth > s.parentElement.clientWidth + 1)
      out.push(`a share label is wider than its segment`);
  for (const bar of document.querySelectorAll(".bar")) {
    const m = bar.querySelector(".median");
    if (!m) continue;
    const line = m.getBoundingClientRect();
    for (const s of bar.querySelectorAll(".seg > span")) {
      if (s.style.visibility === "hidden" || getComputedStyle(s).display === "none") continue;
      const r = s.getBoundingClientRect();
      if (r.width && r.right > line.left && r.left < line.right) { out.push("a share label lies under the 50 % line"); break; }
    }
  }
  // a ranking's titles: whole, or at least TITLE_CHARS characters of them on screen
  const TITLE_CHARS = 40;
  for (const t of document.querySelectorAll("#rows .t")) {
    const text = t.firstChild, whole = t.textContent.length;
    if (!text || (t.scrollHeight <= t.clientHeight + 1 && t.scrollWidth <= t.clientWidth + 1)) continue;
    const r = t.getBoundingClientRect(), range = document.createRange();
    const inside = (i) => { range.setStart(text, i); range.setEnd(text, i + 1); const c = range.getBoundingClientRect();
      return c.bottom <= r.bottom + 1 && c.right <= r.right + 1; };
    let lo = 0, hi = whole;  // the first character that is not shown (line clamp or ellipsis)
    while (lo < hi) { const mid = (lo + hi) >> 1; if (inside(mid)) lo = mid + 1; else hi = mid; }
    if (lo < Math.min(whole, TITLE_CHARS)) { out.push(`a ranking title shows ${lo} of its ${whole} characters: "${t.textContent.slice(0, 30)}…"`); break; }
  }
  // no column of the ranking without a single grade in it
  const tpl = document.getElementById("all-rows");
  for (const hd of document.querySelectorAll("#rows .hd[data-col]")) {
    const cells = tpl ? [...tpl.content.querySelectorAll(".ga")].filter((c) => c.dataset.col === hd.dataset.col) : [];
    if (!cells.some((c) => c.querySelector(".grade:not(.none)"))) out.push(`the ranking's column "${hd.dataset.col}" is always empty`);
  }
  const grade = document.querySelector(".verdict .grade");
  if (grade) {
    const size = parseFloat(getComputedStyle(grade).fontSize);
    for (const e of document.querySelectorAll("main *"))
      if (e.childNodes.length && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) && parseFloat(getComputedStyle(e).fontSize) > size)
        { out.push(`"${e.textContent.slice(0, 30)}" is larger than the majority grade`); break; }
  }
  // read from the back of the room: body text at least 24 px at 1280×720 (0.94 rem: the rem
  // follows the screen), and contrasted (WCAG's 4.5:1); the journal's head (for the guarantors,
  // class "fine") and the keypad numbers (sized by the grid's room) are exempt from the size
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize), minText = 0.94 * rem;
  const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = (e) => { for (let x = e; x; x = x.parentElement) { const c = rgba(getComputedStyle(x).backgroundColor); if (c.length === 3 || c[3] > 0.5) return c; } return [255, 255, 255]; };
  let small = 0, faint = 0;
  for (const e of document.querySelectorAll("main *")) {
    if (!e.getClientRects().length || ![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const cs = getComputedStyle(e);
    if (cs.visibility === "hidden") continue;
    const text = e.textContent.trim().slice(0, 30), size = parseFloat(cs.fontSize);
    if (!e.closest(".fine, #grid") && size < minText - 0.05 && small++ < 3)
      out.push(`"${text}" is ${size.toFixed(1)} px, under ${minText.toFixed(1)} px`);
    const [a, b] = [lum(rgba(cs.color)), lum(behind(e))], ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5 && faint++ < 3) out.push(`"${text}" has a contrast of ${ratio.toFixed(2)}:1 (${cs.color} on ${behind(e)})`);
  }
  if (expected.lang === "en") {
    const shown = document.body.innerText;
    for (const w of expected.french || [])  // a whole word ("Vote clos", not "Vote closed")
      if (new RegExp(`(^|[^\\p{L}])${w}($|[^\\p{L}])`, "u").test(shown)) out.push(`French in the English page: "${w}"`);
  }
  const bg = getComputedStyle(document.body).backgroundColor;
  if (expected.dark !== (bg === "rgb(16, 19, 24)")) out.push(`the page background is ${bg}`);
  return out;
}
