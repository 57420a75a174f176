/* sharecard landing page: copy, share and beacons.  Tiny, no dependencies. */
(function () {
    "use strict";
    var body = document.body;
    var toast = document.getElementById("toast");

    function say(text) {
        if (!toast) return;
        toast.textContent = text;
        toast.className = "toast on";
        setTimeout(function () { toast.className = "toast"; }, 1800);
    }

    function copy(text) {
        if (navigator.clipboard && window.isSecureContext) {
            return navigator.clipboard.writeText(text);
        }
        var ta = document.createElement("textarea");
        ta.value = text;
        ta.setAttribute("readonly", "");
        ta.style.position = "fixed";
        ta.style.opacity = "0";
        document.body.appendChild(ta);
        ta.select();
        try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
        document.body.removeChild(ta);
        return Promise.resolve();
    }

    function beacon(fields) {
        var slug = body.getAttribute("data-slug");
        if (!slug || !navigator.sendBeacon) return;
        var f = new URLSearchParams();
        f.append("card", slug);
        var link = body.getAttribute("data-link");
        if (link) f.append("link", link);
        for (var k in fields) f.append(k, fields[k]);
        navigator.sendBeacon("/e", f);
    }

    document.addEventListener("click", function (ev) {
        var el = ev.target.closest ? ev.target.closest("[data-action],[data-copy]") : null;
        if (!el) return;
        var action = el.getAttribute("data-action");
        if (action === "save") {
            beacon({ type: "save" });
            return;
        }
        var text = el.getAttribute("data-copy");
        if (text) copy(text).then(function () { say(body.getAttribute("data-copied") + " " + text); });
        if (action) beacon({ type: "click", action: action });
    });

    /* Mint a tracked child link, then share it (Web Share API) or copy it. */
    var share = document.getElementById("share");
    if (share) share.addEventListener("click", function () {
        var slug = body.getAttribute("data-slug");
        var fallback = body.getAttribute("data-share-url");
        var title = document.title;
        var channel = navigator.share ? "other" : "copy";
        var token = document.querySelector('input[name="csrf"]'); /* the sign-up form's */
        fetch("/c/" + encodeURIComponent(slug) + "/share", {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
            body: "channel=" + channel + (body.getAttribute("data-link") ? "&from=" + encodeURIComponent(body.getAttribute("data-link")) : "") +
                (token ? "&csrf=" + encodeURIComponent(token.value) : ""),
            credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.json() : { url: fallback }; })
          .catch(function () { return { url: fallback }; })
          .then(function (j) {
              var url = j.url || fallback;
              if (navigator.share) {
                  navigator.share({ title: title, url: url }).catch(function () { /* dismissed */ });
              } else {
                  copy(url).then(function () { say(body.getAttribute("data-copied") + " " + url); });
              }
          });
    });

    /* Dwell: seconds on the page, sent once when it is hidden. */
    var shown = Date.now(), sent = false;
    document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden" && !sent) {
            sent = true;
            beacon({ type: "dwell", seconds: String(Math.min(3600, Math.round((Date.now() - shown) / 1000))) });
        }
    });
    /* The sign-up form (issue 17): sent in the background so that an error
     * shows on the form itself, next to what was typed, which stays; a
     * repeat from the browser that signed up gets the way back to its
     * referral page.  Without script the form posts as usual. */
    var form = document.querySelector("#signup form");
    var formError = document.getElementById("signup-error");
    if (form && formError && window.fetch) form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var button = form.querySelector("button[type=submit]");
        if (button) button.disabled = true;
        var marked = form.querySelectorAll("[aria-invalid]");
        for (var i = 0; i < marked.length; i++) marked[i].removeAttribute("aria-invalid");
        fetch(form.getAttribute("action"), {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
            body: new URLSearchParams(new FormData(form)).toString(),
            credentials: "same-origin"
        }).then(function (r) {
            return r.json().then(function (j) { return { status: r.status, j: j }; },
                                 function () { return { status: r.status, j: {} }; });
        }).then(function (res) {
            var j = res.j || {};
            if (res.status === 201 && j.referral_url) {
                window.location.assign("/r/" + j.referral_url.split("/").pop());
                return;
            }
            var err = j.error || {};
            formError.textContent = err.message || String(res.status);
            if (j.referral_page) {
                formError.textContent = "";
                var a = document.createElement("a");
                a.href = j.referral_page;
                a.id = "signup-again";
                a.textContent = form.getAttribute("data-again") || err.message;
                formError.appendChild(a);
            }
            formError.hidden = false;
            var field = err.field ? form.querySelector('[name="' + err.field + '"]') : null;
            if (field) {
                field.setAttribute("aria-invalid", "true");
                field.focus();
            }
            if (button) button.disabled = false;
        }).catch(function () {
            form.submit(); /* the network failed: let the browser try and say so */
        });
    });
})();
