/// The UI's one script. Pages work without it; it adds what a server cannot do: sending
/// MLflow's fragment links (`/#/experiments/1/runs/<id>`) to the real page, submitting a
/// filter form when one of its selects changes, and reloading pages that ask for it.
enum Script {
    static let js = #"""
        "use strict";
        (function () {
          var prefix = document.documentElement.getAttribute("data-prefix") || "";

          // MLflow's UI routes on the fragment, which the server never sees: the links the
          // mlflow client prints (and MLflow's shared links) land on "/" and are sent on from
          // here. Route shapes are MLflow 3's (its routes.ts): experiments/:id[/:tab][?searchFilter=…],
          // experiments/:id/runs/:run[/:tab[/artifact path]], runs/:run, metric?runs=[…]&metric="…",
          // compare-runs?runs=[…], compare-experiments/s?experiments=[…], models/….
          function fields(query) {
            var out = {};
            query.split("&").forEach(function (pair) {
              if (!pair) return;
              var i = pair.indexOf("="), key = i < 0 ? pair : pair.slice(0, i), value = i < 0 ? "" : pair.slice(i + 1);
              try { out[decodeURIComponent(key.replace(/\+/g, " "))] = decodeURIComponent(value.replace(/\+/g, " ")); } catch (e) { /* a malformed escape: the field is left out */ }
            });
            return out;
          }
          // MLflow writes lists and names as JSON (runs=["a","b"], metric="loss"); a bare value is taken as it is.
          function list(value) {
            if (value === undefined || value === "") return [];
            try {
              var parsed = JSON.parse(value);
              if (Array.isArray(parsed)) return parsed.map(String);
              return [String(parsed)];
            } catch (e) { return value.split(","); }
          }
          function text(value) { var items = list(value); return items.length ? items[0] : null; }
          function query(pairs) {
            var parts = pairs.filter(function (p) { return p[1] !== null && p[1] !== undefined && p[1] !== ""; })
              .map(function (p) { return p[0] + "=" + encodeURIComponent(p[1]); });
            return parts.length ? "?" + parts.join("&") : "";
          }
          function segment(value) { return encodeURIComponent(value); }
          // Run ids each encoded, joined by readable commas: the compare page's `runs`.
          function runList(ids) { return ids.map(encodeURIComponent).join(","); }
          // The runs table's state from MLflow's experiment-page fields.
          function runsTable(f) {
            var order = null;
            if (f.orderByKey) order = f.orderByKey + (f.orderByAsc === "true" ? " ASC" : " DESC");
            if (order === "attributes.start_time DESC") order = null;
            var view = f.lifecycleFilter && f.lifecycleFilter.toLowerCase() === "deleted" ? "deleted" : null;
            return [["filter", f.searchFilter], ["order", order], ["view", view]];
          }
          function fragmentTarget(hash) {
            if (!hash || hash.indexOf("#/") !== 0) return null;
            var rest = hash.slice(1), search = "", q = rest.indexOf("?");
            if (q >= 0) { search = rest.slice(q + 1); rest = rest.slice(0, q); }
            // A malformed escape throws: such a link is left alone (follow() catches it).
            var parts = rest.split("/").filter(function (p) { return p.length > 0; }).map(decodeURIComponent);
            var f = fields(search);
            if (parts.length === 0) return null;
            if (parts[0] === "experiments" && parts.length >= 2 && /^\d+$/.test(parts[1])) {
              var experiment = "/experiments/" + parts[1];
              if (parts[2] === "runs" && parts.length >= 4) {
                var run = experiment + "/runs/" + segment(parts[3]);
                var tab = parts[4];
                if (tab === "artifacts" || tab === "artifactPath") return run + query([["tab", "artifacts"], ["path", parts.slice(5).join("/")]]);
                if (tab === "model-metrics" || tab === "system-metrics" || tab === "metrics") return run + "?tab=metrics";
                return run;
              }
              return experiment + query(runsTable(f));
            }
            if (parts[0] === "experiments" && parts.length === 1) return "/experiments";
            // A run by id alone: the run page redirects a run asked under another experiment to its own.
            if (parts[0] === "runs" && parts.length >= 2) return "/experiments/0/runs/" + segment(parts[1]);
            if (parts[0] === "metric") {
              var runs = list(f.runs), key = text(f.metric) || parts[1] || null, experiments = list(f.experiments);
              if (runs.length === 1) return "/experiments/" + (/^\d+$/.test(experiments[0] || "") ? experiments[0] : "0") + "/runs/" + segment(runs[0]) + "?tab=metrics";
              if (runs.length > 1) return "/compare?runs=" + runList(runs) + (key ? "&metric=" + encodeURIComponent(key) : "");
              return null;
            }
            if (parts[0] === "compare-runs") {
              var ids = list(f.runs);
              return ids.length ? "/compare?runs=" + runList(ids) : null;
            }
            if (parts[0] === "compare-experiments") {
              var several = list(f.experiments);
              if (!several.length) return null;
              var more = query(runsTable(f));
              return "/runs?experiments=" + runList(several) + (more ? "&" + more.slice(1) : "");
            }
            if (parts[0] === "models") {
              if (parts.length === 1) return "/models";
              var name = "/models/" + segment(parts[1]);
              if (parts[2] === "versions" && parts.length >= 4) return name + "/versions/" + segment(parts[3]);
              return name;
            }
            return null;
          }

          function follow() {
            var target = null;
            try { target = fragmentTarget(window.location.hash); } catch (e) { target = null; }
            if (target) window.location.replace(prefix + target);
            return target !== null;
          }
          // A fragment typed or pasted while a page is open changes only the hash: no load.
          window.addEventListener("hashchange", follow);
          if (follow()) return;

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
