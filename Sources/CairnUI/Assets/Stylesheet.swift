/// The UI's one stylesheet, hand-written: semantic elements (tables, forms, nav) plus a few
/// classes (`.card`, `.badge`, `.muted`, `.notice`, `.actions`, `.pager`), light and dark
/// following the OS.
enum Stylesheet {
    /// The page rules, then the charts' (`ChartStyle`), which charts drawn inside a page use.
    static let css = page + ChartStyle.rules + "\n"

    static let page = #"""
        :root {
          color-scheme: light dark;
          --bg: #f7f8fa; --surface: #ffffff; --surface-2: #f1f3f6; --border: #dde1e7;
          --text: #1c2430; --muted: #5f6b7a; --accent: #2563eb; --accent-text: #ffffff;
          --danger: #c62828; --danger-bg: #fdecec; --ok: #1b7f3b; --ok-bg: #e6f4ea;
          --warn: #8a5a00; --warn-bg: #fff4d6; --info-bg: #e8f0fe; --shadow: 0 1px 2px rgba(16, 24, 40, .06);
          --radius: 8px; --mono: ui-monospace, "SF Mono", Menlo, Consolas, monospace;
          --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #0f1419; --surface: #171d24; --surface-2: #1f2730; --border: #2c3642;
            --text: #e3e8ee; --muted: #93a0b0; --accent: #6ea0ff; --accent-text: #0b1220;
            --danger: #ff7b72; --danger-bg: #3a1a1a; --ok: #56d17c; --ok-bg: #12301c;
            --warn: #e3b341; --warn-bg: #33290f; --info-bg: #16243d; --shadow: none;
          }
        }
        *, *::before, *::after { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.5 var(--sans); }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
        pre { background: var(--surface-2); border: 1px solid var(--border); border-radius: var(--radius); padding: 12px; overflow: auto; }
        h1 { font-size: 22px; margin: 0 0 4px; font-weight: 600; }
        h2 { font-size: 17px; margin: 24px 0 8px; font-weight: 600; }
        h3 { font-size: 15px; margin: 16px 0 6px; font-weight: 600; }

        header.site { background: var(--surface); border-bottom: 1px solid var(--border); }
        header.site .bar { max-width: 1400px; margin: 0 auto; padding: 0 24px; display: flex; align-items: center; gap: 28px; height: 52px; }
        header.site .brand { font-weight: 700; font-size: 16px; color: var(--text); letter-spacing: .2px; display: flex; align-items: center; gap: 8px; }
        header.site .brand::before { content: ""; width: 14px; height: 14px; border-radius: 3px; background: var(--accent); transform: rotate(45deg); }
        header.site nav { display: flex; gap: 4px; height: 100%; }
        header.site nav a { display: flex; align-items: center; padding: 0 12px; color: var(--muted); border-bottom: 2px solid transparent; }
        header.site nav a:hover { color: var(--text); text-decoration: none; }
        header.site nav a[aria-current="page"] { color: var(--text); border-bottom-color: var(--accent); font-weight: 600; }

        main { max-width: 1400px; margin: 0 auto; padding: 20px 24px 48px; }
        nav.breadcrumbs ol { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 10px; padding: 0; color: var(--muted); font-size: 13px; }
        nav.breadcrumbs li + li::before { content: "/"; margin-right: 6px; color: var(--border); }
        nav.breadcrumbs [aria-current="page"] { color: var(--text); }
        .page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 16px; flex-wrap: wrap; margin-bottom: 16px; }
        footer.site { max-width: 1400px; margin: 0 auto; padding: 0 24px 24px; color: var(--muted); font-size: 12px; }

        .card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 16px; margin-bottom: 16px; }
        .card > h2:first-child, .card > h3:first-child { margin-top: 0; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 16px; margin-bottom: 16px; }
        .muted { color: var(--muted); }
        .small { font-size: 12.5px; }
        .nowrap { white-space: nowrap; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }

        .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: var(--surface-2); color: var(--muted); border: 1px solid var(--border); white-space: nowrap; }
        .badge.ok, .badge.finished, .badge.active, .badge.passed { background: var(--ok-bg); color: var(--ok); border-color: transparent; }
        .badge.danger, .badge.failed, .badge.deleted, .badge.firing, .badge.rejected { background: var(--danger-bg); color: var(--danger); border-color: transparent; }
        .badge.warn, .badge.running, .badge.scheduled, .badge.pending { background: var(--warn-bg); color: var(--warn); border-color: transparent; }
        .badge.info, .badge.killed { background: var(--info-bg); color: var(--accent); border-color: transparent; }

        .notice { border-radius: var(--radius); padding: 10px 14px; margin: 0 0 16px; border: 1px solid var(--border); background: var(--info-bg); }
        .notice.error { background: var(--danger-bg); color: var(--danger); border-color: transparent; }
        .notice.ok { background: var(--ok-bg); color: var(--ok); border-color: transparent; }
        .notice.warn { background: var(--warn-bg); color: var(--warn); border-color: transparent; }

        .table-wrap { overflow-x: auto; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); }
        table { border-collapse: collapse; width: 100%; }
        th, td { padding: 8px 12px; text-align: left; border-bottom: 1px solid var(--border); vertical-align: top; }
        /* Column headers only: a row header (`th scope="row"`) holds a run name or a key, whose case matters. */
        thead th { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; background: var(--surface-2); white-space: nowrap; }
        thead th a { color: inherit; }
        /* A column header that is user data (a run name over its column, a CSV file's own header) keeps its case too. */
        thead th.verbatim { text-transform: none; letter-spacing: normal; }
        /* A header link that draws its own arrow (the runs table's) gets no second one. */
        thead th[aria-sort] a:not(.has-arrow)::after { content: " ↓"; }
        thead th[aria-sort="ascending"] a:not(.has-arrow)::after { content: " ↑"; }
        /* Long run names end in an ellipsis (the full name is the link's title) so params and metrics stay in view. */
        .run-name { display: inline-block; max-width: 28ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
        tbody tr:last-child td { border-bottom: none; }
        tbody tr:hover td { background: var(--surface-2); }
        td.empty { text-align: center; color: var(--muted); padding: 28px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 20px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; word-break: break-word; }

        form { margin: 0; }
        form.inline { display: inline; }
        .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px; }
        .toolbar .grow { flex: 1 1 240px; }
        label { font-size: 13px; color: var(--muted); }
        input:not([type]), input[type=text], input[type=search], input[type=number], select, textarea {
          font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border);
          border-radius: 6px; padding: 6px 10px; min-height: 34px; max-width: 100%;
        }
        input:focus, select:focus, textarea:focus, button:focus-visible, a:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
        button, .button {
          font: inherit; font-weight: 600; display: inline-flex; align-items: center; gap: 6px; min-height: 34px; padding: 6px 14px;
          border-radius: 6px; border: 1px solid var(--border); background: var(--surface); color: var(--text); cursor: pointer; white-space: nowrap;
        }
        button:hover, .button:hover { background: var(--surface-2); text-decoration: none; }
        button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
        button.primary:hover, .button.primary:hover { filter: brightness(1.08); }
        button.danger, .button.danger { color: var(--danger); border-color: var(--danger); }
        button.link { border: none; background: none; padding: 0; min-height: 0; color: var(--accent); font-weight: 400; }
        button.link.danger, a.danger { color: var(--danger); }
        .actions { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; }
        details.menu > summary { cursor: pointer; color: var(--accent); list-style: none; }
        details.menu > summary::-webkit-details-marker { display: none; }
        details.menu[open] { background: var(--surface-2); border-radius: 6px; padding: 8px; }
        details.menu form { margin-top: 6px; display: flex; gap: 6px; flex-wrap: wrap; }

        .pager { display: flex; gap: 6px; align-items: center; justify-content: flex-end; margin-top: 12px; flex-wrap: wrap; }
        .pager a, .pager span { min-width: 32px; text-align: center; padding: 4px 10px; border-radius: 6px; border: 1px solid var(--border); background: var(--surface); }
        .pager [aria-current="page"] { background: var(--accent); color: var(--accent-text); border-color: var(--accent); }
        .pager .gap { border: none; background: none; }
        .pager .summary { border: none; background: none; color: var(--muted); margin-right: auto; }

        /* Inline drawings that colour their own text (the pipeline DAG's boxes are light in both themes). */
        svg text:not([fill]) { fill: var(--text); }
        caption { caption-side: top; text-align: left; color: var(--muted); font-size: 12.5px; padding: 8px 12px; }
        mark { background: var(--warn-bg); color: var(--text); padding: 0 2px; border-radius: 3px; }

        /* The model registry's pages. */
        .alias, .tag, .dataset { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; white-space: nowrap;
          background: var(--surface-2); color: var(--text); border: 1px solid var(--border); }
        .alias { font-family: var(--mono); font-weight: 600; background: var(--info-bg); color: var(--accent); border-color: transparent; }
        ul.aliases { list-style: none; padding: 0; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 8px 16px; }
        form.search { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0 16px; }
        .alias-form { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 4px 16px 12px; margin: 16px 0; }
        .alias-form h2 { margin-top: 12px; }
        .alias-form form { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin: 8px 0; }
        tr.current td { background: var(--info-bg); }
        p.description { white-space: pre-wrap; }
        figure.chart { margin: 0; }
        figure.chart img, img.fit { max-width: 100%; height: auto; }
        pre.wrap { white-space: pre-wrap; word-break: break-all; }
        /* A grid or flex item holding a wide table shrinks to its track; the table scrolls in its .table-wrap. */
        .grid > *, .page-head > *, .toolbar > * { min-width: 0; }
        figure svg, .card svg { max-width: 100%; height: auto; }
        h1, h2, dl.facts dd, .page-head p { overflow-wrap: anywhere; }
        @media (max-width: 720px) {
          /* A phone: the header wraps onto lines of its own instead of scrolling the page sideways. */
          header.site .bar { flex-wrap: wrap; height: auto; gap: 0 12px; padding: 6px 12px; }
          header.site nav { flex-wrap: wrap; height: auto; }
          header.site nav a { padding: 6px 8px; }
          main { padding: 16px 12px 32px; }
          footer.site { padding: 0 12px 24px; }
          .grid { grid-template-columns: minmax(0, 1fr); }
          dl.facts { grid-template-columns: minmax(0, max-content) minmax(0, 1fr); }
        }

        """#
}
