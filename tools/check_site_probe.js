// Injected by tools/check_site.sh into a copy of each checked page: once the page and its math
// have rendered, it measures what a reader sees at the window's width and writes it as JSON into
// <pre id="nncore-probe">, which Chromium's --dump-dom hands to tools/check_site.py.
(function () {
  const SKIP = "pre, code, script, style, textarea, mjx-container, mjx-assistive-mml, .highlight";
  const TEX = /\\(frac|sqrt|sum|prod|approx|times|cdot|mathbf|mathrm|left|right|begin|end|alpha|beta|ell|partial)\b|\$\$|\\\(|\\\)|\\\[|\\\]/;
  const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

  function describe(el) {
    const cls = (el.className && typeof el.className === "string") ? "." + el.className.trim().split(/\s+/).join(".") : "";
    return el.tagName.toLowerCase() + cls + " " + JSON.stringify((el.textContent || "").trim().slice(0, 60));
  }

  function clipper(el) {
    // The nearest ancestor that cuts off what sticks out of it (overflow other than visible).
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== "visible") return a;
    }
    return null;
  }

  function clipped(el, scrollIsFine) {
    const s = getComputedStyle(el);
    // The extent of the text itself: an inline link's box can be narrower than the <code> in it.
    const range = document.createRange();
    range.selectNodeContents(el);
    const box = el.getBoundingClientRect(), text = range.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return null; // not displayed (a collapsed menu)
    // A block that scrolls its own content is judged by its box, a title by its text.
    const r = { right: scrollIsFine || text.width === 0 ? box.right : text.right };
    if (el.scrollWidth > el.clientWidth + 1 && (s.overflowX === "hidden" || s.overflowX === "clip" || s.textOverflow === "ellipsis"))
      return "its text is wider than its box, which hides the rest";
    const a = clipper(el);
    if (a) {
      const ar = a.getBoundingClientRect();
      const as = getComputedStyle(a);
      const scrolls = as.overflowX === "auto" || as.overflowX === "scroll";
      if (r.right > ar.right + 1 && !(scrollIsFine && scrolls))
        return "it runs past the right edge of " + describe(a).slice(0, 60);
    }
    if (r.right > window.innerWidth + 1) return "it runs past the right edge of the window";
    return null;
  }

  function measure() {
    const out = { width: window.innerWidth, problems: [] };
    const root = document.documentElement;
    out.scrollWidth = root.scrollWidth;
    out.clientWidth = root.clientWidth;
    // The page, and the theme's layout boxes that scroll sideways as a whole (pydata's article
    // container has overflow-x: auto): a scrollbar on any of them is a page-level scrollbar.
    const boxes = [root, ...document.querySelectorAll(".bd-main, .bd-content, .bd-article-container, .bd-page-width, .bd-container")];
    for (const box of boxes) {
      if (box.scrollWidth <= box.clientWidth + 1) continue;
      const edge = box.getBoundingClientRect().left + box.clientWidth;
      const wide = [];
      for (const el of box.querySelectorAll("*")) {
        const c = clipper(el);
        if (el.getBoundingClientRect().right > edge + 1 && (!c || c === box || !box.contains(c))) wide.push(describe(el));
        if (wide.length >= 3) break;
      }
      const what = box === root ? "the page" : describe(box).split(" ")[0];
      out.problems.push({ rule: "horizontal-scroll", detail: `${what} scrolls sideways: ${box.scrollWidth} px of content in ${box.clientWidth} px (widest: ${wide.join("; ")})` });
      break;
    }
    const titles = document.querySelectorAll(
      ".bd-article h1, .bd-article h2, .bd-article h3, article h1, article h2, .navbar-brand, .bd-sidebar-primary a, .bd-sidebar-secondary a, .bd-header a, .prev-next-area a, .bd-breadcrumbs a"
    );
    for (const el of titles) {
      const why = clipped(el, false);
      if (why) out.problems.push({ rule: "clipped-title", detail: `${describe(el)}: ${why}` });
    }
    for (const el of document.querySelectorAll("pre")) {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (r.width === 0) continue;
      if (el.scrollWidth > el.clientWidth + 1 && s.overflowX !== "auto" && s.overflowX !== "scroll")
        out.problems.push({ rule: "clipped-code", detail: `${describe(el)}: wider than its block, which does not scroll` });
      else {
        const why = clipped(el, true);
        if (why) out.problems.push({ rule: "clipped-code", detail: `${describe(el)}: ${why}` });
      }
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let raw = 0;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || p.closest(SKIP) || p.id === "nncore-probe") continue;
      const t = n.textContent;
      if (TEX.test(t) && raw++ < 5) out.problems.push({ rule: "raw-tex", detail: JSON.stringify(t.trim().slice(0, 80)) });
      if (CONTROL.test(t)) out.problems.push({ rule: "control-character", detail: JSON.stringify(t.trim().slice(0, 80)) });
    }
    for (const el of document.querySelectorAll("mjx-merror, .MathJax_Error"))
      out.problems.push({ rule: "raw-tex", detail: `MathJax could not render: ${JSON.stringify(el.textContent.slice(0, 80))}` });
    out.math = document.querySelectorAll("span.math, div.math").length;
    out.mathRendered = document.querySelectorAll("mjx-container").length;
    const pre = document.createElement("pre");
    pre.id = "nncore-probe";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }

  window.addEventListener("load", function () {
    const ready = window.MathJax && MathJax.startup && MathJax.startup.promise ? MathJax.startup.promise : Promise.resolve();
    ready.then(() => setTimeout(measure, 200), () => setTimeout(measure, 200));
  });
})();
