extension UITemplates {
    /// The runs table (`RunsTableView`). Every value goes through `{{…}}`, so Mustache escapes
    /// it, except the rows' cells, which the view builds from `HTMLText.escape`d parts.
    static let runs: [(name: String, source: String)] = [
        (
            "runs-table",
            #"""
            <div class="page-head"><div><h1>{{title}}</h1><p class="muted small">{{pager.summary}}{{#severalExperiments}} · experiments {{#experiments}}<a href="{{href}}">{{name}}</a> {{/experiments}}{{/severalExperiments}}</p></div>
            <p class="actions"><a class="button" href="{{pickerHref}}">Columns</a> <a class="button" href="{{csvHref}}">Download CSV</a></p></div>
            <form class="toolbar" method="get" role="search">
            {{#formHidden}}<input type="hidden" name="{{name}}" value="{{value}}">
            {{/formHidden}}<input id="runs-filter" class="grow mono" name="filter" type="search" value="{{filter}}" spellcheck="false" autocomplete="off" placeholder="metrics.rmse &lt; 1 AND params.model = 'tree'" aria-label="Filter runs (MLflow search syntax)"{{#filterError}} aria-invalid="true" aria-describedby="runs-filter-error"{{/filterError}}>
            <select name="agg" aria-label="Metric value shown">{{#aggregateOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/aggregateOptions}}</select>
            <select name="view" aria-label="Lifecycle">{{#viewOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/viewOptions}}</select>
            <select name="size" aria-label="Runs per page">{{#sizeOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sizeOptions}}</select>
            <label><input type="checkbox" name="diff" value="1"{{#diff}} checked{{/diff}}> Only differing columns</label>
            <label><input type="checkbox" name="nested" value="0"{{^nested}} checked{{/nested}}> Flat list</label>
            <button class="primary" type="submit">Apply</button>
            </form>
            {{#filterError}}<div id="runs-filter-error" class="notice error filter-error" role="alert"><p>{{message}}</p>
            {{#caret}}<pre><code>{{line}}
            {{caret}}</code></pre>{{/caret}}</div>{{/filterError}}
            {{#pageError}}<div class="notice error" role="alert">{{message}} <a href="{{lastPageHref}}">{{lastPageText}}</a></div>{{/pageError}}
            {{#orderError}}<div class="notice warn" role="alert">{{orderError}} The default order is used.</div>{{/orderError}}
            {{#equalColumnsNote}}<p class="muted small">{{equalColumnsNote}}</p>{{/equalColumnsNote}}
            {{#pickerOpen}}<form class="card runs-picker" method="get">
            {{#pickerHidden}}<input type="hidden" name="{{name}}" value="{{value}}">
            {{/pickerHidden}}{{#picker}}<fieldset><legend>{{label}}</legend>{{#keys}}<label class="nowrap"><input type="checkbox" name="col" value="{{value}}"{{#checked}} checked{{/checked}}> {{label}}</label> {{/keys}}{{^keys}}<span class="muted">none logged</span>{{/keys}}</fieldset>
            {{/picker}}<p class="actions"><button class="primary" type="submit">Show these columns</button> <a href="{{clearColumnsHref}}">Default columns</a></p>
            </form>{{/pickerOpen}}
            <form method="get" action="{{compareAction}}">
            <div class="table-wrap">
            <table class="runs">
            <caption class="muted small">{{caption}}</caption>
            <thead><tr><th scope="col"><span class="muted">Select</span></th>{{#attributeHeaders}}<th scope="col" class="{{kind}}{{#numeric}} num{{/numeric}}"{{#ariaSort}} aria-sort="{{ariaSort}}"{{/ariaSort}}>{{#sortHref}}<a class="has-arrow" href="{{sortHref}}">{{label}} <span aria-hidden="true">{{arrow}}</span></a>{{/sortHref}}{{^sortHref}}{{label}}{{/sortHref}}</th>{{/attributeHeaders}}{{#severalExperiments}}<th scope="col">Experiment</th>{{/severalExperiments}}{{#columnHeaders}}<th scope="col" class="{{kind}}{{#numeric}} num{{/numeric}}"{{#ariaSort}} aria-sort="{{ariaSort}}"{{/ariaSort}}><a class="has-arrow" href="{{sortHref}}"><span class="muted small">{{kind}}</span> {{label}} <span aria-hidden="true">{{arrow}}</span></a></th>{{/columnHeaders}}</tr></thead>
            <tbody>
            {{#rows}}<tr class="depth-{{depth}}{{#deleted}} deleted{{/deleted}}"><td><input type="checkbox" name="runs" value="{{runID}}" aria-label="{{selectLabel}}"></td><th scope="row" class="nowrap"><span class="muted">{{indent}}</span><a class="run-name" href="{{href}}" title="{{name}}">{{name}}</a></th><td class="nowrap"><time title="{{startedTitle}}">{{started}}</time></td><td class="num nowrap">{{duration}}</td><td><span class="badge {{statusClass}}">{{status}}</span></td><td>{{user}}</td>{{#experimentName}}<td>{{experimentName}}</td>{{/experimentName}}{{{cellsHTML}}}</tr>
            {{/rows}}
            {{^hasRows}}<tr><td class="empty" colspan="6">No runs match.</td></tr>{{/hasRows}}
            </tbody>
            </table>
            </div>
            {{#omittedNested}}<p class="muted small">Some nested runs are not shown: a page shows at most 1000.</p>{{/omittedNested}}
            <p class="actions"><button type="submit">Compare selected runs</button></p>
            </form>
            {{#pager}}{{> pager}}{{/pager}}
            """#
        )
    ]
}
