// Injected by check_html_layout.sh into a temporary copy of a report (the report itself carries no
// script). Measures what the browser laid out and writes the verdict into the page
// (a pre#overlap-result), which the shell reads back from --dump-dom:
//   - any two <text> boxes of one <svg> that intersect by more than TOL px both ways,
//   - any <text> box that reaches more than TOL px outside its <svg> (the chart clips it),
//   - any "against the baselines" cell that says LOSES without the loss marking (class "bad" and
//     a background of its own), and any such loss to cuDNN whose "× cuDNN" cell is unmarked.
// Offending labels get a red outline, and the first is scrolled into view, for the screenshot.
(function () {
  const TOL = 1;
  const problems = [];
  const outline = [];
  const own = (t) =>
    Array.from(t.childNodes)
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.data)
      .join("")
      .trim();
  const box = (r) =>
    `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}]`;

  let nsvg = 0, ntext = 0, npairs = 0, nclipped = 0;
  document.querySelectorAll("svg").forEach((svg, si) => {
    ++nsvg;
    const where = svg.dataset.problem
      ? `chart of ${svg.dataset.problem}`
      : `${svg.getAttribute("class") || "svg"} (svg #${si + 1})`;
    const texts = Array.from(svg.querySelectorAll("text"))
      .map((t) => ({ t, r: t.getBoundingClientRect(), s: own(t) }))
      .filter((x) => x.r.width > 0 && x.r.height > 0);
    ntext += texts.length;
    const frame = svg.getBoundingClientRect();
    for (const x of texts) {
      if (x.r.left < frame.left - TOL || x.r.right > frame.right + TOL ||
          x.r.top < frame.top - TOL || x.r.bottom > frame.bottom + TOL) {
        ++nclipped;
        problems.push(`clipped in ${where}: "${x.s}" ${box(x.r)} outside the chart ${box(frame)}`);
        outline.push(x.t);
      }
    }
    texts.sort((a, b) => a.r.left - b.r.left);
    for (let i = 0; i < texts.length; ++i) {
      const a = texts[i];
      for (let j = i + 1; j < texts.length && texts[j].r.left < a.r.right - TOL; ++j) {
        const b = texts[j];
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        if (w > TOL && h > TOL) {
          ++npairs;
          problems.push(`overlap in ${where}: "${a.s}" ${box(a.r)} and "${b.s}" ${box(b.r)}`);
          outline.push(a.t, b.t);
        }
      }
    }
  });

  let ntables = 0, nloss = 0, nunmarked = 0;
  document.querySelectorAll("table").forEach((table) => {
    const head = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    const col = head.indexOf("against the baselines");
    const xcudnn = head.indexOf("× cuDNN");
    if (col < 0) return;
    ++ntables;
    const marked = (td) =>
      td.classList.contains("bad") &&
      getComputedStyle(td).backgroundColor !== getComputedStyle(table).backgroundColor;
    table.querySelectorAll("tbody tr").forEach((tr) => {
      const td = tr.cells[col];
      if (!td || !/\bLOSES\b/.test(td.textContent)) return;
      ++nloss;
      const name = tr.cells[0].textContent.trim();
      if (!marked(td)) {
        ++nunmarked;
        problems.push(`loss not marked: ${name}: "${td.textContent.trim()}"`);
        outline.push(td);
      } else if (/LOSES to cuDNN/.test(td.textContent) && xcudnn >= 0 && !marked(tr.cells[xcudnn])) {
        ++nunmarked;
        problems.push(`loss to cuDNN not marked in "× cuDNN": ${name}`);
        outline.push(tr.cells[xcudnn]);
      }
    });
  });
  if (ntables === 0) problems.push('no table has an "against the baselines" column (an old-format report?)');

  const SVG = "http://www.w3.org/2000/svg";
  for (const el of outline) {
    if (el instanceof SVGGraphicsElement) {
      const b = el.getBBox();
      const r = document.createElementNS(SVG, "rect");
      for (const [k, v] of Object.entries({ x: b.x - 1, y: b.y - 1, width: b.width + 2, height: b.height + 2 }))
        r.setAttribute(k, v);
      if (el.hasAttribute("transform")) r.setAttribute("transform", el.getAttribute("transform"));
      r.setAttribute("fill", "none");
      r.setAttribute("stroke", "red");
      el.after(r);
    } else {
      el.style.outline = "2px solid red";
    }
  }
  if (outline.length) outline[0].scrollIntoView({ block: "center" });

  const pre = document.createElement("pre");
  pre.id = "overlap-result";
  pre.textContent =
    `${problems.length ? "FAIL" : "PASS"}: ${nsvg} svg, ${ntext} labels, ${npairs} overlapping ` +
    `pair(s), ${nclipped} clipped; ${ntables} table(s) with "against the baselines", ${nloss} loss(es), ${nunmarked} ` +
    `unmarked\n` + problems.map((p) => `  ${p}\n`).join("");
  document.body.append(pre);
})();
