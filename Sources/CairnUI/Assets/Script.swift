/// The UI's one script. Pages work without it; it adds what a server cannot do: sending
/// MLflow's fragment links (`/#/experiments/1/runs/<id>`) to the real page, submitting a
/// filter form when one of its selects changes, and reloading pages that ask for it.
enum Script {
    static let js = #"""
        "use strict";
        (function () {
          var prefix = document.documentElement.getAttribute("data-prefix") || "";

          // MLflow's UI routes on the fragment, which the server never sees: the links the
          // mlflow client prints land on "/" and are sent on from here.
          function fragmentTarget(hash) {
            if (!hash || hash.indexOf("#/") !== 0) return null;
            var rest = hash.slice(1), query = "", q = rest.indexOf("?");
            if (q >= 0) { query = rest.slice(q + 1); rest = rest.slice(0, q); }
            var parts = rest.split("/").filter(function (p) { return p.length > 0; });
            var m;
            if (parts[0] === "experiments" && parts.length >= 2 && /^\d+$/.test(parts[1])) {
              if (parts[2] === "runs" && parts.length >= 4) {
                return "/experiments/" + parts[1] + "/runs/" + encodeURIComponent(decodeURIComponent(parts[3]));
              }
              return "/experiments/" + parts[1];
            }
            if (parts[0] === "experiments" && parts.length === 1) return "/experiments";
            if (parts[0] === "models") {
              if (parts.length === 1) return "/models";
              var name = "/models/" + encodeURIComponent(decodeURIComponent(parts[1]));
              if (parts[2] === "versions" && parts.length >= 4) return name + "/versions/" + encodeURIComponent(decodeURIComponent(parts[3]));
              return name;
            }
            if (parts[0] === "compare-runs") {
              m = /(?:^|&)runs=([^&]*)/.exec(query);
              if (m) {
                try {
                  var ids = JSON.parse(decodeURIComponent(m[1]));
                  if (Array.isArray(ids)) return "/compare?runs=" + ids.map(encodeURIComponent).join(",");
                } catch (e) { return null; }
              }
            }
            return null;
          }

          var target = null;
          try { target = fragmentTarget(window.location.hash); } catch (e) { target = null; }
          if (target) { window.location.replace(prefix + target); return; }

          document.addEventListener("change", function (event) {
            var field = event.target;
            if (field && field.matches && field.matches("[data-autosubmit]") && field.form) field.form.submit();
          });

          // <body data-refresh="30">: reload while the tab is visible, keeping the scroll position.
          var seconds = parseInt(document.body.getAttribute("data-refresh") || "", 10);
          if (seconds > 0) {
            var key = "cairn.scroll:" + window.location.pathname + window.location.search;
            var saved = window.sessionStorage && window.sessionStorage.getItem(key);
            if (saved) { window.scrollTo(0, parseInt(saved, 10) || 0); window.sessionStorage.removeItem(key); }
            window.setInterval(function () {
              if (document.visibilityState !== "visible") return;
              if (window.sessionStorage) window.sessionStorage.setItem(key, String(window.scrollY));
              window.location.reload();
            }, seconds * 1000);
          }
        })();

        """#
}
