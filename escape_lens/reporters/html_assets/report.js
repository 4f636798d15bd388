// escape-lens HTML report (part of escape-lens, MIT licence). Reads the JSON embedded in
// #report-data and draws the page.
// Vanilla JS, no dependencies, no network. Every string from the report reaches the
// page through textContent or attributes, never through innerHTML.
(function () {
  "use strict";

  // vocab.SitePath, in its order: the words every output counts a site's path under
  var PATHS = ["tiny", "small", "large", "dynamic", "none", "pooled", "unknown"];
  var NO_ALLOCATION = "no allocation";  // an escape line with nothing allocated behind it
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var report = data.report;
  var sites = unpack(report.sites);
  var views = data.views;
  sites.forEach(function (site, i) {
    site.path = views[i].path || NO_ALLOCATION;
    site.reason = views[i].reason || "";
  });
  var app = document.getElementById("app");
  var SVG = "http://www.w3.org/2000/svg";

  // --- small helpers ---------------------------------------------------------------

  // Sites arrive as rows under one list of field names, predictions as value lists.
  function unpack(packed) {
    var fields = data.prediction_fields;
    var prediction = function (row) {
      if (!row) return null;
      var p = {};
      fields.forEach(function (name, k) { p[name] = row[k]; });
      return p;
    };
    return packed.rows.map(function (row) {
      var site = {};
      packed.fields.forEach(function (name, k) { site[name] = row[k]; });
      site.prediction = prediction(site.prediction);
      site.extra = (site.extra || []).map(prediction);
      return site;
    });
  }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = value;
        else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : value);
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(el, c); });
    else if (typeof child === "string" || typeof child === "number") el.appendChild(document.createTextNode(String(child)));
    else el.appendChild(child);
  }

  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (typeof c === "string") el.appendChild(document.createTextNode(c));
      else if (c) el.appendChild(c);
    }
    return el;
  }

  function bytes(n) {
    if (n === null || n === undefined) return "—";
    if (n >= 1048576) return trim(n / 1048576) + " MiB";
    if (n >= 10240 || (n >= 1024 && n % 1024 === 0)) return trim(n / 1024) + " KiB";
    return n.toLocaleString("en-US") + " B";
  }

  function trim(x) { return (Math.round(x * 10) / 10).toString(); }

  function pct(part, whole) { return whole ? Math.round((100 * part) / whole) + "%" : "0%"; }

  // The function's name inside its package, however the record spells it.
  // Files named on the command line form package "command-line-arguments", whose symbols
  // still say "main.".
  var FILES_PACKAGE = "command-line-arguments";

  function localName(site) {
    var prefixes = [site.package + "."].concat(site.package === FILES_PACKAGE ? ["main."] : []);
    for (var k = 0; k < prefixes.length; k++) {
      if (site.function.indexOf(prefixes[k]) === 0) return site.function.slice(prefixes[k].length);
    }
    return site.function;
  }

  function pkgName(site) {
    return site.package === FILES_PACKAGE ? "main" : site.package.slice(site.package.lastIndexOf("/") + 1);
  }

  function funcLabel(site) { return pkgName(site) + "." + localName(site); }

  function baseName(file) { return file.slice(file.lastIndexOf("/") + 1); }

  function loc(site) { return baseName(site.file) + ":" + site.line; }

  // In a diff, removed sites are listed but are not part of the new code's totals.
  function live(i) { return views[i].status !== "removed"; }

  // The path word Python chose (views[i].path, escape_lens.model.explain.site_path).
  function path(site) { return site.path; }

  function pathClass(word) { return word.replace(/ /g, "-"); }

  // "#13" is the runtime's size-class number (runtime/sizeclasses.go), said in a tooltip.
  function classTitle(p) { return "size class " + p.size_class + " of the Go runtime's table (" + bytes(p.class_bytes) + " slots)"; }

  function classLabel(site) {
    var p = site.prediction;
    if (!p || !site.allocates) return "—";
    if (p.path === "small") return bytes(p.class_bytes) + " #" + p.size_class;
    if (p.path === "tiny") return "tiny 16 B";
    if (p.path === "large") return bytes(p.class_bytes);
    if (p.path === "dynamic") return "at run time";
    return "—";
  }

  // The chart's bucket of a site, also the value of the table's class filter.
  function classKey(site) {
    var p = site.prediction;
    if (!site.allocates || !p) return "";
    return p.path === "small" ? bytes(p.class_bytes) : p.path;
  }

  function classValues() {
    var seen = {};
    sites.forEach(function (site) {
      var key = classKey(site), p = site.prediction;
      if (key) seen[key] = p.path === "tiny" ? 0 : p.path === "small" ? p.class_bytes : p.path === "large" ? 1e12 : 2e12;
    });
    return Object.keys(seen).sort(function (a, b) { return seen[a] - seen[b]; });
  }

  function chip(text, kind) { return h("span", { class: "chip chip-" + pathClass(kind), text: text }); }

  // --- state in the URL hash ----------------------------------------------------------

  var state = { q: "", pkg: "", path: "", con: "", cls: "", change: "", all: "", sort: "", dir: "" };

  function readHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    Object.keys(state).forEach(function (key) { state[key] = params.get(key) || ""; });
  }

  function writeHash() {
    var params = new URLSearchParams();
    Object.keys(state).forEach(function (key) { if (state[key]) params.set(key, state[key]); });
    var hash = params.toString();
    var url = location.href.split("#")[0] + (hash ? "#" + hash : "");
    try { history.replaceState(null, "", url); } catch (e) { location.hash = hash; }
  }

  // --- header and summary ---------------------------------------------------------------

  // The build's tags and flags, as the text header shows them (absent for a plain build).
  function buildMeta(build) {
    if (!build) return [];
    var parts = [];
    if (build.tags.length) parts.push("tags=" + build.tags.join(","));
    if (build.gcflags.length) parts.push("gcflags=" + build.gcflags.join(" "));
    if (build.goflags.length) parts.push("GOFLAGS=" + build.goflags.join(" "));
    if (build.ignored.length) parts.push("not applied: " + build.ignored.join(" "));
    return parts;
  }

  function header() {
    var tc = report.toolchain;
    var only = report.packages[0];
    if (only === FILES_PACKAGE && report.root) only = baseName(report.root) + " (" + FILES_PACKAGE + ")";
    var title = report.packages.length === 1 ? only : commonPrefix(report.packages) + " (" + report.packages.length + " packages)";
    var meta = [
      tc.version + " " + tc.goos + "/" + tc.goarch + (tc.goexperiment.length ? " (GOEXPERIMENT=" + tc.goexperiment.join(",") + ")" : ""),
      "allocator model " + data.model + (data.model_note ? " (" + data.model_note + ")" : ""),
      "escape-lens " + report.tool_version,
      report.origin === "binary" ? "from a compiled binary" : "from source",
    ].concat(buildMeta(report.build));
    return h("header", { class: "top" },
      h("div", { class: "brand", "aria-hidden": "true" }, h("span", { class: "logo" }), "escape-lens"),
      h("h1", { text: (data.diff ? "Diff: " : "") + title }),
      h("p", { class: "meta" }, meta.map(function (m, i) { return [i ? h("span", { class: "sep", "aria-hidden": "true", text: "·" }) : null, h("span", { text: m })]; })),
      h("nav", { class: "toc", "aria-label": "Sections" },
        [["summary", "Summary"], ["chart", "Size classes"], ["fix", "Fix first"], ["sites", "Sites"], ["functions", "Source"]].map(function (p) {
          return h("a", { href: "#" + p[0], "data-section": p[0], onclick: jump, text: p[1] });
        })));
  }

  function commonPrefix(names) {
    var parts = names[0].split("/");
    names.forEach(function (name) {
      var other = name.split("/"), k = 0;
      while (k < parts.length && k < other.length && parts[k] === other[k]) k++;
      parts = parts.slice(0, k);
    });
    return parts.length ? parts.join("/") + "/…" : "";
  }

  function jump(event) {
    // Section links must not overwrite the filter state kept in the hash.
    event.preventDefault();
    var target = document.getElementById("sec-" + event.currentTarget.getAttribute("data-section"));
    if (target) { target.scrollIntoView({ block: "start" }); target.focus({ preventScroll: true }); }
  }

  function summary() {
    var sum = report.summary;
    var wastePct = pct(sum.constant_size_waste_bytes, sum.constant_size_bytes);
    var card = function (label, value, note, cls) {
      return h("div", { class: "card " + (cls || "") }, h("div", { class: "card-label", text: label }), h("div", { class: "card-value", text: value }), note ? h("div", { class: "card-note", text: note }) : null);
    };
    var total = 0;
    PATHS.forEach(function (p) { total += sum.by_path[p] || 0; });
    var bar = h("div", { class: "pathbar", role: "img", "aria-label": PATHS.filter(function (p) { return sum.by_path[p]; }).map(function (p) { return sum.by_path[p] + " " + p; }).join(", ") || "no sites" });
    var legend = h("ul", { class: "legend" });
    PATHS.forEach(function (p) {
      var n = sum.by_path[p] || 0;
      if (!n) return;
      bar.appendChild(h("span", { class: "seg path-" + pathClass(p), style: "flex-grow:" + n, title: n + " " + p }));
      legend.appendChild(h("li", null, h("span", { class: "dot path-" + p }), h("b", { text: String(n) }), " " + p));
    });
    var packages = report.packages.length;
    return h("section", { id: "sec-summary", class: "summary", tabindex: "-1", "aria-label": "Summary" },
      card("Allocation sites", sum.sites.toLocaleString("en-US"), sum.non_allocating ? plural(sum.non_allocating, "escape line") + " without an allocation" : sum.sites ? "every one reaches the heap" : "nothing reaches the heap", "accent"),
      card("Constant-size bytes", bytes(sum.constant_size_bytes), plural(sum.constant_size_sites, "site") + " of constant size, once each: a sum over sites, not per run" + (sum.variable_size_sites ? "; " + plural(sum.variable_size_sites, "site") + " of variable size not counted" : "")),
      card("Wasted to rounding", bytes(sum.constant_size_waste_bytes), wastePct + " of the constant-size bytes", sum.constant_size_waste_bytes ? "warn" : ""),
      card("Packages", String(packages), report.skipped.length ? report.skipped.length + " skipped" : (packages === 1 ? report.packages[0] : "analysed")),
      h("div", { class: "card paths" }, h("div", { class: "card-label", text: "By allocator path" }), total ? [bar, legend] : h("div", { class: "card-note", text: "no allocating sites" })));
  }

  function diffBanner() {
    var diff = data.diff;
    if (!diff) return null;
    var before = diff.old_summary, after = report.summary;
    var delta = after.constant_size_bytes - before.constant_size_bytes;
    var items = ["new", "grown", "shrunk", "removed"].map(function (kind) {
      return h("li", null, chip(String(diff.counts[kind]), "st-" + kind), " " + kind);
    });
    items.push(h("li", { class: "dim", text: diff.unchanged + " unchanged" }));
    return h("section", { class: "panel diff", "aria-label": "Changes" },
      h("div", { class: "panel-head" }, h("h2", { text: "Changes" }),
        h("p", { class: "count" }, "Constant-size bytes ", h("b", { text: bytes(before.constant_size_bytes) }), " → ", h("b", { text: bytes(after.constant_size_bytes) }),
          h("span", { class: delta > 0 ? "waste-text" : "dim", text: " (" + (delta > 0 ? "+" : delta < 0 ? "−" : "±") + bytes(Math.abs(delta)) + ")" }))),
      h("ul", { class: "legend diff-counts" }, items));
  }

  function skipped() {
    if (!report.skipped.length) return null;
    return h("section", { class: "skipped", "aria-label": "Skipped packages" },
      h("h2", { text: "Skipped packages" }),
      h("ul", null, report.skipped.map(function (sk) { return h("li", null, h("code", { text: sk.package }), h("pre", { text: sk.reason })); })));
  }

  // --- size-class chart ------------------------------------------------------------------

  function chartBuckets() {
    if (report.profile) return observedBuckets();
    var buckets = {};
    sites.forEach(function (site, i) {
      if (!site.allocates || !site.prediction || !live(i)) return;
      var p = site.prediction;
      if (p.path === "dynamic" || p.path === "none") return;
      var key = p.path === "small" ? "s" + p.class_bytes : p.path;
      var order = p.path === "tiny" ? 0 : p.path === "small" ? p.class_bytes : 1e12;
      var label = p.path === "small" ? bytes(p.class_bytes) : p.path;
      var b = buckets[key] || (buckets[key] = { key: key, label: label, order: order, path: p.path, cls: p.size_class, sites: 0, used: 0, waste: 0 });
      b.sites += 1;
      b.used += site.class_bytes - site.waste_bytes;
      b.waste += site.waste_bytes;
    });
    return Object.keys(buckets).map(function (k) { return buckets[k]; }).sort(function (a, b) { return a.order - b.order; });
  }

  var chartMetric = "bytes";
  var scaleNote = h("span");

  function chart() {
    var holder = h("div", { class: "chart-holder" });
    var toggle = h("div", { class: "seg-toggle", role: "group", "aria-label": "Chart shows" });
    ["bytes", "sites"].forEach(function (metric) {
      toggle.appendChild(h("button", {
        type: "button", "data-metric": metric, "aria-pressed": String(metric === chartMetric),
        onclick: function () {
          chartMetric = metric;
          Array.prototype.forEach.call(toggle.children, function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-metric") === metric)); });
          drawChart(holder);
        },
        text: metric === "bytes" ? "Bytes" : "Sites",
      }));
    });
    var dynamic = sites.filter(function (site, i) { return path(site) === "dynamic" && live(i); }).length;
    drawChart(holder);
    return h("section", { id: "sec-chart", class: "panel", tabindex: "-1" },
      h("div", { class: "panel-head" }, h("h2", { text: "Size classes" }), toggle),
      report.profile ? h("p", { class: "hint" }, "Bytes the heap profile recorded, by recorded object size; ", h("span", { class: "waste-key" }), " the part lost to rounding up.", scaleNote) :
      h("p", { class: "hint" }, "Bytes one execution of every constant-size site takes from each size class (a sum over sites, not per run); ", h("span", { class: "waste-key" }), " the part lost to rounding up; #N is the runtime's size-class number." + (dynamic ? " " + dynamic + " site" + (dynamic === 1 ? "" : "s") + " with a run-time size not drawn." : ""), scaleNote),
      holder);
  }

  function drawChart(holder) {
    holder.textContent = "";
    var buckets = chartBuckets();
    if (!buckets.length) { holder.appendChild(h("p", { class: "empty", text: "No sites with a known size." })); return; }
    var byBytes = chartMetric === "bytes";
    var value = function (b) { return byBytes ? b.used + b.waste : b.sites; };
    var values = buckets.map(value);
    var max = Math.max.apply(null, values) || 1;
    var min = Math.min.apply(null, values.filter(function (v) { return v > 0; })) || 1;
    // A square-root scale when one class dwarfs the rest (one large object among small
    // ones), so every bar stays visible; the caption says so.
    var sqrt = max / min > 40;
    var top, ticks = [];
    if (sqrt) {
      // Powers of two, a quarter apart: evenly spaced on this scale, readable as bytes.
      top = Math.pow(2, Math.ceil(Math.log2(max)));
      [0, 1 / 64, 1 / 16, 1 / 4, 1].forEach(function (f) { ticks.push(f * top); });
    } else {
      var step = niceStep(max / 4);
      top = Math.ceil(max / step) * step;
      for (var v = 0; v <= top + 1e-9; v += step) ticks.push(v);
    }
    scaleNote.textContent = sqrt ? " Square-root scale." : "";
    // Drawn at the holder's own width, one user unit per pixel, so labels stay 11px and
    // every class is in view: with many classes the bars narrow and their labels turn
    // (net/http has some forty); only below 12px a bar does the holder scroll sideways.
    var L = 56, T = 22;
    var W = Math.max(holder.clientWidth || 640, L + 8 + buckets.length * 12);
    var gap = (W - L - 8) / buckets.length;
    var turned = gap < 40;
    var B = turned ? 78 : 44, H = turned ? 364 : 330;
    var bw = Math.min(34, gap * 0.7);
    var svg = s("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "chart", role: "img", "aria-label": (byBytes ? "Bytes" : "Sites") + " per size class" });
    svg.appendChild(s("defs", null, s("pattern", { id: "hatch", width: "6", height: "6", patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      s("rect", { width: "6", height: "6", class: "hatch-bg" }), s("line", { x1: "0", y1: "0", x2: "0", y2: "6", class: "hatch-line" }))));
    var y = function (v) { return T + (H - T - B) * (1 - (sqrt ? Math.sqrt(v / top) : v / top)); };
    ticks.forEach(function (v) {
      svg.appendChild(s("line", { x1: L, x2: W - 4, y1: y(v), y2: y(v), class: "grid" }));
      svg.appendChild(s("text", { x: L - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, byBytes ? bytes(Math.round(v)) : String(Math.round(v * 10) / 10)));
    });
    buckets.forEach(function (b, i) {
      var x = L + gap * i + (gap - bw) / 2;
      var tip = b.label + (b.path === "small" && b.cls !== undefined ? " (class " + b.cls + ")" : "") + ": " + b.sites + " site" + (b.sites === 1 ? "" : "s") + ", " + bytes(b.used + b.waste) + (b.waste ? ", " + bytes(b.waste) + " wasted" : "");
      // A bar is a button: it filters the table to its class (again: clears the filter).
      var g = s("g", { class: "bar path-" + b.path + (state.cls === b.label ? " active" : ""), "data-class": b.label, tabindex: "0", role: "button", "aria-label": "Show the sites of " + tip });
      var pick = function () {
        state.cls = state.cls === b.label ? "" : b.label;
        syncControls();
        update();
        if (state.cls) document.getElementById("sec-sites").scrollIntoView({ block: "start" });
      };
      g.addEventListener("click", pick);
      g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
      g.appendChild(s("title", null, tip));
      g.appendChild(s("rect", { x: L + gap * i, width: gap, y: T, height: H - T, class: "hit" }));
      if (byBytes) {
        g.appendChild(s("rect", { x: x, width: bw, y: y(b.used + b.waste), height: Math.max(0, y(0) - y(b.used)) + (y(b.used) - y(b.used + b.waste)), class: "used", rx: "2" }));
        if (b.waste) g.appendChild(s("rect", { x: x, width: bw, y: y(b.used + b.waste), height: y(b.used) - y(b.used + b.waste), class: "waste", fill: "url(#hatch)" }));
      } else {
        g.appendChild(s("rect", { x: x, width: bw, y: y(b.sites), height: y(0) - y(b.sites), class: "used", rx: "2" }));
      }
      g.appendChild(s("text", { x: x + bw / 2, y: y(value(b)) - 5, class: "val", "text-anchor": "middle" }, byBytes ? (b.sites + "×") : String(b.sites)));
      var numbered = b.path === "small" && b.cls !== undefined;
      if (turned) {
        var lx = x + bw / 2 + 4, ly = H - B + 10;
        g.appendChild(s("text", { x: lx, y: ly, class: "axis", "text-anchor": "end", transform: "rotate(-60 " + lx + " " + ly + ")" }, b.label + (numbered ? " #" + b.cls : "")));
      } else {
        g.appendChild(s("text", { x: x + bw / 2, y: H - B + 16, class: "axis", "text-anchor": "middle" }, b.label));
        if (numbered) g.appendChild(s("text", { x: x + bw / 2, y: H - B + 30, class: "axis faint", "text-anchor": "middle" }, "#" + b.cls));
      }
      svg.appendChild(g);
    });
    holder.appendChild(svg);
  }

  var chartWidth = 0;
  window.addEventListener("resize", function () {
    var holder = document.querySelector(".chart-holder");
    if (holder && holder.clientWidth !== chartWidth) { chartWidth = holder.clientWidth; drawChart(holder); }
  });

  function niceStep(raw) {
    if (raw <= 1) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  // --- what to fix first ------------------------------------------------------------------

  function fixFirst() {
    if (report.profile && !data.diff) return observedFixFirst();
    if (data.fix_first && !data.diff) return adviceFixFirst();
    // In a diff, what is new or grew comes first: that is what the change costs.
    var worse = function (i) { return views[i].status === "new" || views[i].status === "grown"; };
    var onlyWorse = sites.some(function (site, i) { return worse(i) && site.allocates && site.class_bytes > 0; });
    var ranked = sites.map(function (site, i) { return i; }).filter(function (i) {
      return sites[i].allocates && sites[i].class_bytes > 0 && live(i) && (!onlyWorse || worse(i));
    });
    ranked.sort(function (a, b) {
      var sa = sites[a], sb = sites[b];
      return (sb.class_bytes + sb.waste_bytes) - (sa.class_bytes + sa.waste_bytes) || sb.waste_bytes - sa.waste_bytes || a - b;
    });
    ranked = ranked.slice(0, 5);
    var list = h("ol", { class: "fix" });
    ranked.forEach(function (i) {
      var site = sites[i], view = views[i];
      list.appendChild(h("li", null,
        h("div", { class: "fix-main" },
          h("code", { class: "expr", text: site.expr || site.type || site.construct }),
          h("span", { class: "fix-bytes" }, h("b", { text: bytes(site.class_bytes) }), site.waste_bytes ? h("span", { class: "waste-text", text: " · " + bytes(site.waste_bytes) + " waste" }) : null)),
        h("div", { class: "fix-where" }, siteLink(i, funcLabel(site) + " · " + loc(site)), " ", chip(path(site), path(site)), view.status ? [" ", chip(view.status, "st-" + view.status)] : null),
        view.hint ? h("div", { class: "fix-hint", text: view.hint }) : null));
    });
    return h("section", { id: "sec-fix", class: "panel", tabindex: "-1" },
      h("div", { class: "panel-head" }, h("h2", { text: "What to fix first" })),
      h("p", { class: "hint", text: (onlyWorse ? "New and grown sites, ranked" : "Ranked") + " by bytes per execution plus waste." }),
      ranked.length ? list : h("p", { class: "empty", text: "Nothing allocates a known size." }));
  }

  // Ranked in Python (escape_lens/advice/rank.py): bytes a hint recovers, cold paths
  // (init, sync.Once, sync.Pool New, panics) last. A profiled page ranks by what the
  // runtime recorded (observedFixFirst).
  function adviceFixFirst() {
    var list = h("ol", { class: "fix" });
    data.fix_first.slice(0, 5).forEach(function (f) {
      var site = sites[f.site], view = views[f.site];
      list.appendChild(h("li", null,
        h("div", { class: "fix-main" },
          h("code", { class: "expr", text: site.expr || site.type || site.construct }),
          h("span", { class: "fix-bytes" }, h("b", { text: bytes(f.recoverable_bytes) }), " · " + f.cause)),
        h("div", { class: "fix-where" }, siteLink(f.site, funcLabel(site) + " · " + loc(site)), " ", chip(path(site), path(site)), f.low_priority ? [" ", chip("low priority: " + f.low_priority, "st-unchanged")] : null, view.status ? [" ", chip(view.status, "st-" + view.status)] : null),
        h("div", { class: "fix-hint", text: f.hint })));
    });
    return h("section", { id: "sec-fix", class: "panel", tabindex: "-1" },
      h("div", { class: "panel-head" }, h("h2", { text: "What to fix first" })),
      h("p", { class: "hint", text: "Ranked by the bytes a hint recovers per execution; init, sync.Once, sync.Pool New and panic paths last." }),
      data.fix_first.length ? list : h("p", { class: "empty", text: "No hint recovers bytes at these sites." }));
  }

  // --- with a heap profile (docs/profiles.md): what the runtime recorded -------------------

  // Chart buckets by the object size the runtime recorded; waste only where the model
  // knows the request (a concrete prediction), never guessed for run-time sizes.
  function observedBuckets() {
    var buckets = {};
    sites.forEach(function (site, i) {
      if (!site.observed || !live(i)) return;
      var p = site.prediction;
      var concrete = p && !site.extra.length && (p.path === "small" || p.path === "large");
      site.observed.sizes.forEach(function (size) {
        var key = "o" + size.bytes;
        var b = buckets[key] || (buckets[key] = { key: key, label: bytes(size.bytes), order: size.bytes, path: size.bytes > 32768 ? "large" : "small", sites: 0, used: 0, waste: 0 });
        var waste = concrete && p.class_bytes === size.bytes ? size.objects * p.waste_bytes : 0;
        b.sites += 1;
        b.used += size.objects * size.bytes - waste;
        b.waste += waste;
      });
    });
    return Object.keys(buckets).map(function (k) { return buckets[k]; }).sort(function (a, b) { return a.order - b.order; });
  }

  function observedFigures(site) {
    var o = site.observed, profile = report.profile;
    var text = bytes(o.bytes) + " · " + (100 * o.bytes / (profile.bytes || 1)).toFixed(1) + "% of the profile";
    if (site.per_op) text += " · " + site.per_op.objects.toFixed(2) + " allocs/op, " + bytes(Math.round(site.per_op.bytes)) + "/op";
    return text;
  }

  function observedFixFirst() {
    var profile = report.profile;
    var ranked = sites.map(function (site, i) { return i; }).filter(function (i) { return sites[i].observed && live(i); });
    ranked.sort(function (a, b) { return sites[b].observed.bytes - sites[a].observed.bytes || a - b; });
    var list = h("ol", { class: "fix" });
    ranked.slice(0, 5).forEach(function (i) {
      var site = sites[i], view = views[i], o = site.observed;
      var dynamic = !site.prediction || site.prediction.path === "dynamic";
      list.appendChild(h("li", null,
        h("div", { class: "fix-main" },
          h("code", { class: "expr", text: site.expr || site.type || site.construct }),
          h("span", { class: "fix-bytes" }, h("b", { text: observedFigures(site) }))),
        h("div", { class: "fix-where" }, siteLink(i, funcLabel(site) + " · " + loc(site)), " ", chip(path(site), path(site)), o.model_disagreement ? [" ", chip("model disagrees", "st-grown")] : null),
        dynamic || o.sizes.length > 1 ? h("div", { class: "fix-hint", text: "recorded " + o.sizes.map(function (z) { return bytes(z.bytes) + " ×" + z.objects; }).join(", ") }) : null,
        // Advice to shrink only where rounding wastes something: a buffer that wastes
        // nothing costs what it holds.
        view.hint && site.waste_bytes > 0 ? h("div", { class: "fix-hint", text: view.hint }) : null));
    });
    var disagreeing = sites.filter(function (site) { return site.observed && site.observed.model_disagreement; });
    return h("section", { id: "sec-fix", class: "panel", tabindex: "-1" },
      h("div", { class: "panel-head" }, h("h2", { text: "What to fix first" })),
      h("p", { class: "hint", text: "Ranked by the bytes the heap profile recorded (" + profile.sample + ", " + pct(profile.attributed_bytes, profile.bytes) + " of its " + bytes(profile.bytes) + " at a site" + (profile.operations ? ", " + profile.operations + " operations" : "") + ")." }),
      ranked.length ? list : h("p", { class: "empty", text: "The profile recorded nothing at these sites." }),
      disagreeing.length ? h("div", { class: "fix-hint" }, h("b", { text: "Model disagreements: " }), disagreeing.map(function (site) { return loc(site) + " " + site.observed.model_disagreement; }).join("; ")) : null,
      h("details", { class: "hint" }, h("summary", { text: "What the runtime does not record" }),
        h("ul", null, profile.unrecorded.map(function (t) { return h("li", { text: t }); }))));
  }

  // --- the sites table -------------------------------------------------------------------

  var COLUMNS = [
    { key: "loc", label: "Location", get: function (s) { return s.file + ":" + String(s.line).padStart(7, "0"); } },
    { key: "package", label: "Package", get: function (s) { return s.package; } },
    { key: "function", label: "Function", get: localName },
    { key: "construct", label: "Construct", get: function (s) { return s.construct; } },
    { key: "expr", label: "Expression", get: function (s) { return s.expr || ""; } },
    { key: "type", label: "Type", get: function (s) { return s.type || ""; } },
    { key: "bytes", label: "Bytes", num: true, get: function (s) { return s.class_bytes; } },
    { key: "class", label: "Class", title: "The size class: its slot bytes and #N, its number in the Go runtime's table (runtime/sizeclasses.go)", num: true, get: function (s) { return s.prediction && s.allocates ? s.prediction.class_bytes : -1; } },
    { key: "waste", label: "Waste", num: true, get: function (s) { return s.waste_bytes; } },
    { key: "path", label: "Path", get: path },
    { key: "reason", label: "Reason", get: function (s) { return s.reason; } },
    { key: "entry", label: "Entry", get: function (s) { return s.entry || ""; } },
  ];
  var hasStatus = views.some(function (v) { return v.status; });
  if (hasStatus) COLUMNS.unshift({ key: "change", label: "Change", get: function (s, i) { return views[i].status || ""; } });

  var tableBody, countLine, fnCount, controls = {};
  var rowCache = {};  // rows are built once and moved, so filtering a large report is quick

  function distinct(get) {
    var seen = {};
    sites.forEach(function (site, i) { var v = get(site, i); if (v) seen[v] = (seen[v] || 0) + 1; });
    return Object.keys(seen).sort();
  }

  function select(key, label, values) {
    var el = h("select", { id: "f-" + key, onchange: function () { state[key] = el.value; update(); } },
      h("option", { value: "", text: "All " + label }),
      values.map(function (v) { return h("option", { value: v, text: v }); }));
    controls[key] = el;
    return h("label", { class: "field" }, h("span", { class: "field-label", text: label }), el);
  }

  function sitesTable() {
    var search = h("input", { id: "f-q", type: "search", placeholder: "Function, type, expression, file…", autocomplete: "off", spellcheck: "false",
      oninput: function () { state.q = search.value; update(); } });
    controls.q = search;
    var all = h("input", { id: "f-all", type: "checkbox", onchange: function () { state.all = all.checked ? "1" : ""; update(); } });
    controls.all = all;
    var stackOnly = sites.filter(function (site) { return !site.allocates; }).length;
    var filters = h("div", { class: "filters", role: "search" },
      h("label", { class: "field grow" }, h("span", { class: "field-label" }, "Search ", h("kbd", { title: "press / to jump here", text: "/" })), search),
      select("pkg", "packages", distinct(function (s) { return s.package; })),
      select("path", "paths", distinct(path)),
      select("con", "constructs", distinct(function (s) { return s.construct; })),
      select("cls", "classes", classValues()),
      hasStatus ? select("change", "changes", distinct(function (s, i) { return views[i].status; })) : null,
      h("div", { class: "filter-end" },
        stackOnly ? h("label", { class: "check" }, all, " Show " + stackOnly + " without an allocation") : null,
        h("button", { type: "button", class: "ghost", onclick: function () { Object.keys(state).forEach(function (k) { if (k !== "sort" && k !== "dir") state[k] = ""; }); syncControls(); update(); }, text: "Clear" })));
    var headRow = h("tr");
    COLUMNS.forEach(function (col) {
      headRow.appendChild(h("th", { scope: "col", class: "col-" + col.key + (col.num ? " num" : ""), "data-key": col.key, title: col.title || null },
        h("button", { type: "button", class: "sort", onclick: function () { sortBy(col.key); } }, col.label, h("span", { class: "arrow", "aria-hidden": "true" }))));
    });
    tableBody = h("tbody");
    countLine = h("p", { class: "count", role: "status", "aria-live": "polite" });
    return h("section", { id: "sec-sites", class: "panel", tabindex: "-1" },
      h("div", { class: "panel-head" }, h("h2", { text: "Sites" }), countLine),
      filters,
      tableWrap = h("div", { class: "table-wrap", onscroll: function () { nearTableEnd(tableWrap); } }, h("table", { class: "sites", id: "sites-table" }, h("thead", null, headRow), tableBody)));
  }

  // Rows go into the table a chunk at a time, the next as the table scrolls near its end:
  // laying out net/http's thousand rows on every keystroke would take a second.
  var ROW_CHUNK = 40;
  var shownRows = [], renderedRows = 0, tableWrap;

  function moreRows(count) {
    var end = Math.min(shownRows.length, renderedRows + count);
    if (end <= renderedRows) return;
    var frag = document.createDocumentFragment();
    for (var k = renderedRows; k < end; k++) {
      var i = shownRows[k];
      frag.appendChild(rowCache[i] || (rowCache[i] = row(i)));
    }
    tableBody.appendChild(frag);
    renderedRows = end;
  }

  function nearTableEnd(wrap) {
    if (wrap.scrollTop + wrap.clientHeight > wrap.scrollHeight - 200) moreRows(ROW_CHUNK);
  }

  window.addEventListener("beforeprint", function () { moreRows(Infinity); });

  function sortBy(key) {
    if (state.sort === key) state.dir = state.dir === "desc" ? "asc" : "desc";
    else { state.sort = key; var col = COLUMNS.filter(function (c) { return c.key === key; })[0]; state.dir = col && col.num ? "desc" : "asc"; }
    update();
  }

  function syncControls() {
    ["q", "pkg", "path", "con", "cls", "change"].forEach(function (k) { if (controls[k]) controls[k].value = state[k]; });
    document.querySelectorAll(".chart .bar").forEach(function (bar) { bar.classList.toggle("active", bar.getAttribute("data-class") === state.cls); });
    if (controls.all) controls.all.checked = state.all === "1";
  }

  function matches(site, i) {
    if (!state.all && !site.allocates) return false;
    if (state.pkg && site.package !== state.pkg) return false;
    if (state.path && path(site) !== state.path) return false;
    if (state.con && site.construct !== state.con) return false;
    if (state.cls && classKey(site) !== state.cls) return false;
    if (state.change && views[i].status !== state.change) return false;
    if (state.q) {
      var hay = hayCache[i] || (hayCache[i] = [site.file + ":" + site.line, site.package, site.function, site.construct, site.type || "", site.expr, site.entry || "", path(site), site.reason].join(" ").toLowerCase());
      var words = queryWords();
      for (var w = 0; w < words.length; w++) if (hay.indexOf(words[w]) < 0) return false;
    }
    return true;
  }

  // What a site is searched by, lower-cased once: a keystroke on net/http's thousand rows
  // must stay well under 100 ms (tests/integration/test_html_browser.py measures it).
  var hayCache = {};
  var lastQuery = null, lastWords = [];
  function queryWords() {
    if (state.q !== lastQuery) { lastQuery = state.q; lastWords = state.q.toLowerCase().split(/\s+/).filter(Boolean); }
    return lastWords;
  }

  function update() {
    writeHash();
    var rows = [];
    sites.forEach(function (site, i) { if (matches(site, i)) rows.push(i); });
    var col = COLUMNS.filter(function (c) { return c.key === state.sort; })[0];
    if (col) {
      var sign = state.dir === "desc" ? -1 : 1;
      rows.sort(function (a, b) {
        var va = col.get(sites[a], a), vb = col.get(sites[b], b);
        var c = col.num ? va - vb : String(va).localeCompare(String(vb));
        return sign * c || a - b;
      });
    }
    document.querySelectorAll("#sites-table th").forEach(function (th) {
      var key = th.getAttribute("data-key");
      th.setAttribute("aria-sort", key === state.sort ? (state.dir === "desc" ? "descending" : "ascending") : "none");
    });
    tableBody.textContent = "";
    shownRows = rows;
    renderedRows = 0;
    moreRows(ROW_CHUNK);
    requestAnimationFrame(function () { nearTableEnd(tableWrap); });  // a tall window may show it all
    var total = sites.filter(function (site) { return state.all || site.allocates; }).length;
    countLine.textContent = rows.length === total ? plural(total, "site") : rows.length + " of " + plural(total, "site");
    if (!rows.length) tableBody.appendChild(h("tr", null, h("td", { colspan: String(COLUMNS.length), class: "empty", text: total ? "No site matches the filters." : "No allocation sites." })));
    filterFunctions(rows);
  }

  // The source section follows the table: only functions with a matching site are listed.
  function filterFunctions(rows) {
    var shown = {};
    rows.forEach(function (i) { shown[i] = true; });
    var visible = 0;
    data.functions.forEach(function (fn, f) {
      var det = document.getElementById("fn-" + f);
      if (!det) return;
      var match = fn.sites.some(function (i) { return shown[i]; });
      if (det.hidden === match) det.hidden = !match;  // untouched when unchanged: no restyle
      if (match) visible++;
    });
    if (fnCount) fnCount.textContent = visible === data.functions.length ? plural(visible, "function") : visible + " of " + plural(data.functions.length, "function") + ", as filtered above";
  }

  function row(i) {
    var site = sites[i], view = views[i], p = path(site);
    var cells = {
      change: function () { return h("td", null, view.status ? chip(view.status, "st-" + view.status) : null); },
      loc: function () { return h("td", { class: "mono" }, siteLink(i, loc(site))); },
      package: function () { return h("td", { class: "mono dim", title: site.package, text: pkgName(site) }); },
      function: function () { return h("td", { class: "mono", title: site.package + "." + localName(site), text: localName(site) }); },
      construct: function () { return h("td", null, h("span", { class: "tag", text: site.construct })); },
      expr: function () { return h("td", { class: "mono", title: site.expr, text: site.expr || "—" }); },
      type: function () { return h("td", { class: "mono", title: site.type, text: site.type || "—" }); },
      reason: function () { return h("td", { class: "dim", title: site.reason || null, text: site.reason || "—" }); },
      bytes: function () { return h("td", { class: "num", title: site.prediction ? site.prediction.requested_bytes + " B requested" : null, text: site.allocates && site.class_bytes ? bytes(site.class_bytes) : "—" }); },
      class: function () { return h("td", { class: "num", title: site.allocates && site.prediction && site.prediction.path === "small" ? classTitle(site.prediction) : null, text: classLabel(site) }); },
      waste: function () { return h("td", { class: "num" + (site.waste_bytes ? " waste-text" : " dim"), text: site.allocates ? bytes(site.waste_bytes) : "—" }); },
      path: function () { return h("td", null, chip(p, p)); },
      entry: function () { return h("td", { class: "mono dim", title: site.entry, text: site.entry || "—" }); },
    };
    var rowClass = [site.allocates ? "" : "stack", view.status === "removed" ? "gone" : ""].join(" ").trim();
    return h("tr", { class: rowClass || null, "data-site": String(i) }, COLUMNS.map(function (c) {
      var cell = cells[c.key]();
      cell.classList.add("col-" + c.key);
      return cell;
    }));
  }

  function siteLink(i, text) {
    return h("a", { href: "#", class: "site-link", onclick: function (e) { e.preventDefault(); reveal(i); }, text: text });
  }

  // --- source, annotated ---------------------------------------------------------------------

  var fnOfSite = {};
  data.functions.forEach(function (fn, f) { fn.sites.forEach(function (i) { fnOfSite[i] = f; }); });

  function functionsSection() {
    fnCount = h("p", { class: "count grow-count", role: "status" });
    var list = h("div", { class: "fns" });
    data.functions.forEach(function (fn, f) {
      var total = 0;
      fn.sites.forEach(function (i) { if (live(i)) total += sites[i].class_bytes; });
      var allocating = fn.sites.filter(function (i) { return sites[i].allocates; }).length;
      var body = h("div", { class: "fn-body" });
      var det = h("details", { class: "fn", id: "fn-" + f, ontoggle: function () { if (det.open && !body.firstChild) fillWhenSeen(det); } },
        h("summary", null,
          h("span", { class: "fn-name mono", text: funcLabel(sites[fn.sites[0]]) }),
          h("span", { class: "fn-file mono dim", text: fn.file }),
          h("span", { class: "fn-stats" }, h("b", { text: String(allocating) }), allocating === 1 ? " site" : " sites", total ? h("span", { class: "dim", text: " · " + bytes(total) }) : null)),
        body);
      list.appendChild(det);
    });
    return h("section", { id: "sec-functions", class: "panel", tabindex: "-1" },
      h("div", { class: "panel-head" }, h("h2", { text: "Source" }), fnCount,
        h("div", { class: "seg-toggle" },
          h("button", { type: "button", onclick: function () { setAll(true); }, text: "Expand all" }),
          h("button", { type: "button", onclick: function () { setAll(false); }, text: "Collapse all" }))),
      h("p", { class: "hint", text: "Each allocating line carries its size class; open it for why it escapes, what the allocator does, and the call's assembly." }),
      data.functions.length ? list : h("p", { class: "empty", text: "No sites." }));
  }

  // An opened function's source is drawn when it comes near the window, so "Expand all"
  // on net/http's hundreds of functions answers at once (under 1 s, measured by the
  // browser tests) and draws only what is looked at.
  function fill(det) {
    var body = det.querySelector(".fn-body"), f = +det.id.slice(3);
    if (!body.firstChild) body.appendChild(renderFunction(data.functions[f], f));
  }

  var seen = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      seen.unobserve(entry.target);
      if (entry.target.open) fill(entry.target);
    });
  }, { rootMargin: "800px 0px" }) : null;

  function fillWhenSeen(det) {
    if (seen) seen.observe(det);
    else fill(det);
  }

  window.addEventListener("beforeprint", function () { document.querySelectorAll("details.fn[open]").forEach(fill); });

  function setAll(open) {
    document.querySelectorAll("details.fn").forEach(function (d) { if (!d.hidden || !open) d.open = open; });
  }

  function renderFunction(fn, f) {
    var wrap = h("div", { class: "src-wrap" });
    var byLine = {};
    fn.sites.forEach(function (i) { (byLine[sites[i].line] = byLine[sites[i].line] || []).push(i); });
    if (!fn.segments.length) {
      // No source (a binary report, or the file could not be read): the sites alone.
      var bare = h("div", { class: "src" });
      fn.sites.forEach(function (i) { bare.appendChild(annotation(i, true)); });
      wrap.appendChild(bare);
      return wrap;
    }
    var src = h("div", { class: "src", role: "list" });
    fn.segments.forEach(function (seg, n) {
      if (n > 0) src.appendChild(h("div", { class: "gap", "aria-hidden": "true", text: "⋯" }));
      seg[1].forEach(function (text, k) {
        var line = seg[0] + k;
        var here = byLine[line] || [];
        var alloc = here.filter(function (i) { return sites[i].allocates; });
        var lineEl = h("div", { class: "line" + (here.length ? (alloc.length ? " hot" : " cool") : ""), role: "listitem", id: "L-" + f + "-" + line },
          h("span", { class: "ln", "aria-hidden": "true", text: String(line) }),
          h("code", { class: "code" }, highlight(text)));
        if (here.length) {
          var notes = h("div", { class: "notes", id: "N-" + f + "-" + line, hidden: true });
          here.forEach(function (i) { notes.appendChild(annotation(i, false)); });
          var label = here.map(function (i) { return badgeText(sites[i]); }).join(" + ");
          var numbered = here.filter(function (i) { return sites[i].allocates && sites[i].prediction && sites[i].prediction.path === "small"; });
          var btn = h("button", { type: "button", class: "badge" + (alloc.length ? "" : " badge-cool"), "aria-expanded": "false", title: numbered.length ? numbered.map(function (i) { return classTitle(sites[i].prediction); }).join("; ") : null, "aria-controls": "N-" + f + "-" + line, "aria-label": "Line " + line + ": " + label + ", show details",
            onclick: function () {
              var open = btn.getAttribute("aria-expanded") !== "true";
              btn.setAttribute("aria-expanded", String(open));
              notes.hidden = !open;
            } }, label);
          lineEl.appendChild(btn);
          src.appendChild(lineEl);
          src.appendChild(notes);
        } else {
          src.appendChild(lineEl);
        }
      });
    });
    wrap.appendChild(src);
    return wrap;
  }

  function badgeText(site) {
    if (!site.allocates) return NO_ALLOCATION;
    var p = site.prediction;
    if (!p) return site.entry || "heap";
    if (p.path === "dynamic") return "dynamic";
    if (p.path === "tiny") return "tiny " + p.requested_bytes + " B";
    if (site.extra.length) return bytes(site.class_bytes) + " · " + (site.extra.length + 1) + " objects";
    return bytes(site.class_bytes) + (p.path === "small" ? " · #" + p.size_class : " · large");
  }

  function annotation(i, standalone) {
    var site = sites[i], view = views[i];
    var facts = [
      site.type ? h("span", null, "type ", h("code", { text: site.type })) : null,
      site.allocates && site.extra.length ? h("span", null, "takes ", h("b", { text: bytes(site.class_bytes) }), " in " + (site.extra.length + 1) + " objects") : null,
      site.prediction && site.allocates && !site.extra.length && site.prediction.path !== "dynamic" ? h("span", null, "requested ", h("b", { text: bytes(site.prediction.requested_bytes) })) : null,
      site.allocates && site.class_bytes && !site.extra.length ? h("span", null, "class ", h("b", { text: classLabel(site) })) : null,
      site.allocates && site.waste_bytes ? h("span", { class: "waste-text" }, "waste ", h("b", { text: bytes(site.waste_bytes) })) : null,
      site.entry ? h("span", null, "runtime.", h("code", { text: site.entry })) : null,
      site.count !== null && site.count !== undefined ? h("span", null, "count ", h("b", { text: String(site.count) })) : null,
    ].filter(Boolean);
    var chain = view.chain ? h("ol", { class: "chain", "aria-label": "Why it escapes" },
      view.chain.map(function (step, k) { return h("li", { class: k === 0 ? "from" : step === "heap" ? "to-heap" : null, text: step }); })) : null;
    var why = site.escape ? site.escape.message : null;
    var asm = site.asm && site.asm.length ? h("details", { class: "asm" }, h("summary", { text: "Assembly of the call (" + site.asm.length + " lines)" }), h("pre", null, site.asm.map(asmLine))) : null;
    return h("div", { class: "note" + (site.allocates ? "" : " note-cool"), id: "site-" + i },
      h("div", { class: "note-head" },
        chip(path(site), path(site)),
        h("code", { class: "expr", text: site.expr || site.construct }),
        h("span", { class: "tag", text: site.construct }),
        standalone ? h("span", { class: "mono dim", text: loc(site) }) : null,
        view.status ? chip(view.status, "st-" + view.status) : null),
      facts.length ? h("div", { class: "facts" }, facts) : null,
      why ? h("p", { class: "why" }, h("span", { class: "why-label", text: "Compiler: " }), why) : null,
      chain,
      site.cause && site.allocates ? h("p", { class: "why" }, h("span", { class: "why-label", text: "Cause: " }), site.cause + (site.cause_via ? " (via " + site.cause_via + ")" : "") + (site.hint ? " — " + site.hint : "")) : null,
      view.status && view.status !== "unchanged" ? h("p", { class: "why" }, h("span", { class: "why-label", text: "Change: " }), view.status + (view.reason ? ", " + view.reason : "") + (view.was ? " (was " + view.was + ")" : "")) : null,
      site.note ? h("p", { class: "why dim", text: site.note }) : null,
      site.inlined_from ? h("p", { class: "why dim", text: "Inlined from " + site.inlined_from.file + ":" + site.inlined_from.line }) : null,
      site.allocates && objectsOf(site).length > 1 ? objectsTable(site, view) : null,
      site.allocates && objectsOf(site).length === 1 ? h("ul", { class: "explain" }, explain(site, view).map(function (t) { return h("li", { text: t }); })) : null,
      asm);
  }

  // The model's prediction in sentences; `hint` (the next smaller class) comes from Python,
  // which asks the model itself.
  function explain(site, view) {
    var out = [];
    var objects = site.prediction ? [site.prediction].concat(site.extra) : site.extra;
    objects.forEach(function (p, n) {
      var lines = explainOne(p, n === 0 ? site.pointers : null);
      if (n > 0 && lines.length) lines[0] = "Also " + bytes(p.requested_bytes) + ": " + lines[0];
      out = out.concat(lines);
    });
    if (view.hint) out.push("Next smaller: " + view.hint + ".");
    return out;
  }

  // Several objects per execution (a map's header and groups, a channel and its buffer):
  // one row each, the model's numbers side by side.
  function objectsTable(site, view) {
    var head = ["Object", "Requested", "Class", "Span class", "Span", "Objects/span", "Waste"];
    var body = objectsOf(site).map(function (p, n) {
      var cls = p.path === "small" ? bytes(p.class_bytes) + " #" + p.size_class : p.path === "tiny" ? "tiny 16 B" : p.path === "large" ? bytes(p.class_bytes) + " large" : p.path;
      return h("tr", null,
        h("td", { text: n === 0 ? "main" : "+" + n }),
        h("td", { class: "num", text: p.path === "dynamic" ? "—" : bytes(p.requested_bytes) }),
        h("td", { class: "num", text: cls }),
        h("td", { class: "num", text: p.path === "small" ? String(p.span_class) : "—" }),
        h("td", { class: "num", text: p.span_pages ? plural(p.span_pages, "page") : "—" }),
        h("td", { class: "num", text: p.objects_per_span ? String(p.objects_per_span) : "—" }),
        h("td", { class: "num" + (p.waste_bytes ? " waste-text" : ""), text: bytes(p.waste_bytes) }));
    });
    return h("div", { class: "objects" },
      h("table", null, h("thead", null, h("tr", null, head.map(function (t, k) { return h("th", { scope: "col", class: k ? "num" : null, text: t }); }))), h("tbody", null, body)),
      view.hint ? h("p", { class: "why", text: "Next smaller: " + view.hint + "." }) : null);
  }

  function objectsOf(site) { return site.prediction ? [site.prediction].concat(site.extra) : site.extra; }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function explainOne(p, pointers) {
    var kind = pointers === null || pointers === undefined ? "" : pointers ? " (pointerful, scan)" : " (pointer-free, noscan)";
    var waste = p.waste_bytes && p.class_bytes ? "; " + bytes(p.waste_bytes) + " lost to rounding (" + pct(p.waste_bytes, p.class_bytes) + ")" : "";
    if (p.path === "none") return ["No heap allocation."];
    if (p.path === "dynamic") {
      var lines = ["Length known only at run time" + (p.elem_bytes !== null ? ", " + bytes(p.elem_bytes) + " elements" : "") + kind + "."];
      if (p.tiny_max_count) lines.push("Up to " + plural(p.tiny_max_count, "element") + ": tiny allocator, packed into shared 16 B blocks.");
      if (p.small_max_count !== null && p.small_max_count !== undefined) lines.push("Up to " + plural(p.small_max_count, "element") + ": a small size class; beyond that a large object with a span of its own.");
      return lines;
    }
    if (p.path === "tiny") return ["Tiny allocator: " + bytes(p.requested_bytes) + ", pointer-free and under 16 B, is packed with other tiny objects into shared 16 B blocks; no class of its own."];
    if (p.path === "large") return ["Large object: " + bytes(p.requested_bytes) + ", over the largest size class, gets a span of its own: " + plural(p.span_pages, "page") + " (" + bytes(p.class_bytes) + ")" + waste + "."];
    var header = p.header_bytes ? " + " + p.header_bytes + " B malloc header (pointerful, over 512 B)" : "";
    return [
      "Size class " + p.size_class + ": " + bytes(p.class_bytes) + " slots for " + bytes(p.requested_bytes) + header + waste + ".",
      "Span class " + p.span_class + kind + ": " + plural(p.span_pages, "page") + " (" + bytes(8192 * p.span_pages) + ") hold " + p.objects_per_span + " objects.",
    ];
  }

  function asmLine(text) {
    var isCall = /\bcall\b/i.test(text);
    return h("span", { class: isCall ? "asm-call" : null, text: text + "\n" });
  }

  function reveal(i) {
    var f = fnOfSite[i];
    var det = document.getElementById("fn-" + f);
    if (!det) return;
    det.open = true;
    fill(det);
    var note = document.getElementById("site-" + i);
    var target = note;
    var lineEl = document.getElementById("L-" + f + "-" + sites[i].line);
    if (lineEl) {
      var btn = lineEl.querySelector(".badge");
      if (btn && btn.getAttribute("aria-expanded") !== "true") btn.click();
      target = lineEl;
    }
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.remove("flash");
      void target.offsetWidth;
      target.classList.add("flash");
      var focusable = lineEl ? lineEl.querySelector(".badge") : null;
      if (focusable) focusable.focus({ preventScroll: true });
    }
  }

  // --- Go syntax colouring (enough to read, not a parser) ----------------------------------

  var KEYWORDS = /^(break|case|chan|const|continue|default|defer|else|fallthrough|for|func|go|goto|if|import|interface|map|package|range|return|select|struct|switch|type|var)$/;
  var BUILTINS = /^(append|cap|clear|close|complex|copy|delete|imag|len|make|max|min|new|panic|print|println|real|recover|any|bool|byte|comparable|error|float32|float64|int|int8|int16|int32|int64|rune|string|uint|uint8|uint16|uint32|uint64|uintptr|true|false|nil|iota)$/;
  var TOKEN = /(\/\/.*$)|(\/\*.*?\*\/)|("(?:[^"\\]|\\.)*"?|`[^`]*`?|'(?:[^'\\]|\\.)*'?)|(\b\d[\w.]*\b)|([A-Za-z_]\w*)/g;

  function highlight(text) {
    var out = [], last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      if (m.index > last) out.push(text.slice(last, m.index));
      var cls = m[1] || m[2] ? "c" : m[3] ? "s" : m[4] ? "n" : KEYWORDS.test(m[5]) ? "k" : BUILTINS.test(m[5]) ? "b" : null;
      out.push(cls ? h("span", { class: "t-" + cls, text: m[0] }) : m[0]);
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    if (!text.length) out.push(" ");
    return out;
  }

  // --- assemble ------------------------------------------------------------------------------

  readHash();
  app.appendChild(header());
  var main = h("main", null,
    summary(),
    diffBanner(),
    skipped(),
    h("div", { class: "two" }, chart(), fixFirst()),
    sitesTable(),
    functionsSection());
  app.appendChild(main);
  app.appendChild(h("footer", { class: "foot" }, "escape-lens " + report.tool_version + " · " + report.schema + " · sizes are bytes per execution of each site, as the allocator model for " + data.model + " predicts them."));
  syncControls();
  update();
  // "/" jumps to the filter, as in most code browsers.
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (e.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(tag) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      controls.q.focus();
    }
  });
  window.addEventListener("hashchange", function () { readHash(); syncControls(); update(); });
})();
