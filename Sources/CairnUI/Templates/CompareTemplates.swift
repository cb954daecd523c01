extension UITemplates {
    /// The compare page.
    static let compare: [(name: String, source: String)] = [
        (
            "compare_selection",
            #"""
            <div class="page-head"><div><h1>Select runs to compare</h1></div></div>
            <div class="card">
            <p>Select at least two runs to compare{{#hasOne}}: only one was selected{{/hasOne}}. Tick the runs' boxes in a runs table, then press “Compare selected runs”.</p>
            <p><a class="button" href="{{backURL}}">Back to the runs</a></p>
            </div>
            """#
        ),
        (
            "compare",
            #"""
            <div class="page-head"><div><h1>Compare {{runCount}} runs</h1>
              <p class="muted small">{{#columns}}<a href="{{url}}">{{name}}</a> · {{/columns}}</p></div></div>
            <section class="card" aria-labelledby="compare-params">
              <h2 id="compare-params">Parameters</h2>
              <p class="muted small">{{differingParams}} of them differ between the runs ·
                {{#onlyDifferences}}<a href="{{allRowsURL}}">Show all</a>{{/onlyDifferences}}{{^onlyDifferences}}<a href="{{differencesURL}}">Show only differences</a>{{/onlyDifferences}}</p>
              {{#hasParams}}
              <div class="table-wrap"><table>
                <caption class="muted small">Rows whose values differ are marked; choose a parameter to plot it</caption>
                <thead><tr><th scope="col">Parameter</th>{{#columns}}<th scope="col" class="verbatim"><a href="{{url}}">{{name}}</a></th>{{/columns}}</tr></thead>
                <tbody>
                {{#params}}
                  <tr{{#differs}} class="differs"{{/differs}}><td class="mono"><a href="{{chooseURL}}"{{#isChosen}} aria-current="true"{{/isChosen}}>{{key}}</a>{{#differs}} <span class="badge warn">differs</span>{{/differs}}</td>{{#cells}}<td{{#missing}} class="muted"{{/missing}}>{{#differs}}<mark>{{value}}</mark>{{/differs}}{{^differs}}{{value}}{{/differs}}</td>{{/cells}}</tr>
                {{/params}}
                </tbody>
              </table></div>
              {{/hasParams}}
              {{^hasParams}}<p class="muted">No parameters to show.</p>{{/hasParams}}
            </section>
            <section class="card" aria-labelledby="compare-metrics">
              <h2 id="compare-metrics">Metrics</h2>
              {{#hasMetrics}}
              <div class="table-wrap"><table>
                <caption class="muted small">Latest value of each metric; choose one to plot the parameters against it</caption>
                <thead><tr><th scope="col">Metric</th>{{#columns}}<th scope="col" class="verbatim"><a href="{{url}}">{{name}}</a></th>{{/columns}}</tr></thead>
                <tbody>
                {{#metrics}}
                  <tr><td class="mono"><a href="{{chooseURL}}"{{#isChosen}} aria-current="true"{{/isChosen}}>{{key}}</a></td>{{#cells}}<td class="num{{#missing}} muted{{/missing}}">{{value}}</td>{{/cells}}</tr>
                {{/metrics}}
                </tbody>
              </table></div>
              {{/hasMetrics}}
              {{^hasMetrics}}<p class="muted">No metrics to show.</p>{{/hasMetrics}}
            </section>
            {{#hasMetrics}}
            <div class="grid">
            {{#charts}}
              <figure class="card chart"><a href="{{url}}" title="Open the chart to zoom"><img src="{{url}}" alt="{{key}} of the compared runs by step" width="480" height="220" loading="lazy"></a><figcaption>{{key}}</figcaption></figure>
            {{/charts}}
            </div>
            {{/hasMetrics}}
            <section class="card" aria-labelledby="compare-plots">
              <h2 id="compare-plots">Parameters against {{#chosenMetric}}{{chosenMetric}}{{/chosenMetric}}{{^chosenMetric}}a metric{{/chosenMetric}}</h2>
              {{#parallelSVG}}<figure>{{{parallelSVG}}}<figcaption class="muted small">Parallel coordinates: the parameters that differ, and {{chosenMetric}}</figcaption></figure>{{/parallelSVG}}
              {{#scatterSVG}}<figure>{{{scatterSVG}}}<figcaption class="muted small">{{chosenParam}} against {{chosenMetric}}</figcaption></figure>{{/scatterSVG}}
              {{#hasPoints}}
              <div class="table-wrap"><table>
                <caption class="muted small">{{chosenParam}} and {{chosenMetric}} of each run</caption>
                <thead><tr><th scope="col">Run</th><th scope="col">{{chosenParam}}</th><th scope="col" class="num">{{chosenMetric}}</th></tr></thead>
                <tbody>{{#points}}<tr><td>{{run}}</td><td>{{param}}</td><td class="num">{{metric}}</td></tr>{{/points}}</tbody>
              </table></div>
              {{/hasPoints}}
              {{^hasPoints}}<p class="muted">Choose a parameter and a metric that the runs have to plot one against the other.</p>{{/hasPoints}}
            </section>
            """#
        ),
    ]
}
