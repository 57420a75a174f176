/* sharecard signed-in pages: sortable tables, the live feed, CSV files into the import
   form, and the card editor's live preview.  Tiny, no dependencies. */
(function () {
    "use strict";

    /* Sortable tables: click a heading; numbers sort by value (data-v or the text). */
    function value(cell) {
        var v = cell.getAttribute("data-v");
        var t = v !== null ? v : cell.textContent.trim();
        var n = parseFloat(t.replace(/[,%]/g, ""));
        return isNaN(n) || !/^[-+]?[\d.,]+%?$/.test(t) && v === null ? t.toLowerCase() : n;
    }
    document.querySelectorAll("table.sortable").forEach(function (table) {
        table.querySelectorAll("thead th").forEach(function (th, col) {
            th.setAttribute("role", "button");
            th.tabIndex = 0;
            function sort() {
                var down = th.getAttribute("aria-sort") !== "descending";
                table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
                th.setAttribute("aria-sort", down ? "descending" : "ascending");
                var body = table.tBodies[0];
                var rows = Array.prototype.slice.call(body.rows);
                rows.sort(function (a, b) {
                    var x = value(a.cells[col]), y = value(b.cells[col]);
                    var c = x < y ? -1 : x > y ? 1 : 0;
                    return down ? -c : c;
                });
                rows.forEach(function (r) { body.appendChild(r); });
            }
            th.addEventListener("click", sort);
            th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
        });
    });

    /* The live feed: Server-Sent Events, newest first, the last 50 kept. */
    var live = document.getElementById("live");
    if (live && window.EventSource) {
        var src = new EventSource(live.getAttribute("data-src"));
        src.onmessage = function (e) {
            var v;
            try { v = JSON.parse(e.data); } catch (err) { return; }
            var hint = live.querySelector(".hint");
            if (hint) live.removeChild(hint);
            var li = document.createElement("li");
            li.setAttribute("data-type", v.type);
            var t = document.createElement("time");
            /* In SHARECARD_TZ, as the server wrote it, like every time on the pages. */
            t.textContent = v.local || new Date(v.at).toLocaleTimeString();
            t.setAttribute("datetime", v.at);
            li.appendChild(t);
            li.appendChild(document.createTextNode(" "));
            if (v.url) { /* a hot lead or a due reminder: to the lead's page */
                var a = document.createElement("a");
                a.href = v.url;
                a.textContent = v.text;
                li.appendChild(a);
            } else {
                li.appendChild(document.createTextNode(v.text));
            }
            live.insertBefore(li, live.firstChild);
            while (live.children.length > 50) live.removeChild(live.lastChild);
        };
    }

    /* A lead's page answered with the template while the model drafts: its draft when ready. */
    var draft = document.getElementById("draft");
    if (draft && draft.getAttribute("data-draft-src") && window.fetch) {
        fetch(draft.getAttribute("data-draft-src"), { credentials: "same-origin" })
            .then(function (res) { return res.ok ? res.json() : null; })
            .then(function (d) {
                if (!d || d.drafted_by !== "model" || typeof d.next_action !== "string") return;
                draft.value = d.next_action;
                draft.setAttribute("data-drafted-by", "model");
                var copy = draft.parentNode.querySelector("[data-copy]");
                if (copy) copy.setAttribute("data-copy", d.next_action);
            })
            .catch(function () { /* the template stays */ });
    }

    /* A chosen CSV file fills the import form's text area. */
    document.querySelectorAll("input[type=file][data-fill]").forEach(function (input) {
        input.addEventListener("change", function () {
            var f = input.files && input.files[0];
            var area = input.form.querySelector("textarea[name=" + input.getAttribute("data-fill") + "]");
            if (!f || !area) return;
            var reader = new FileReader();
            reader.onload = function () { area.value = reader.result; };
            reader.readAsText(f);
        });
    });

    /* The editor: typing updates the preview before it is saved. */
    var frame = document.querySelector("iframe.preview");
    var form = document.querySelector(".editor form");
    if (frame && form) {
        var map = { name: ".name", title: ".job", company: ".company", bio: ".bio" };
        form.addEventListener("input", function (e) {
            var doc = frame.contentDocument;
            if (!doc) return;
            var sel = map[e.target.name];
            if (sel) {
                var el = doc.querySelector(sel);
                if (el) el.textContent = e.target.value;
            } else if (e.target.name === "theme") {
                doc.documentElement.style.setProperty("--accent", e.target.value);
                doc.body.style.setProperty("--accent", e.target.value);
            }
        });
    }
    /* /admin/rewards (issue 17): one box selects every row of the page for "Approve selected". */
    var all = document.getElementById("select-all");
    if (all) all.addEventListener("change", function () {
        var boxes = document.querySelectorAll('input[type=checkbox][form=bulk]');
        for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    });
    /* Tables wider than the screen scroll sideways (issue 17): say so above each one. */
    function scrollHints() {
        var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
        var boxes = document.querySelectorAll(".scroll");
        for (var i = 0; i < boxes.length; i++) {
            var box = boxes[i], hint = box.previousElementSibling;
            var has = hint && hint.className === "scroll-hint";
            var wide = box.scrollWidth > box.clientWidth + 1;
            if (wide && !has) {
                hint = document.createElement("p");
                hint.className = "scroll-hint";
                hint.textContent = zh ? "表格可左右滑动，查看更多列 →" : "Swipe the table sideways for more columns →";
                box.parentNode.insertBefore(hint, box);
            } else if (!wide && has) {
                hint.parentNode.removeChild(hint);
            }
            box.classList.toggle("wide", wide);
        }
    }
    scrollHints();
    window.addEventListener("resize", scrollHints);
})();
