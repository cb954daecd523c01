extension UITemplates {
    /// The run page (`run`, with its tabs as partials) and its artifact preview.
    static let runPage: [(name: String, source: String)] = [
        (
            "run",
            #"""
            <div class="page-head"><div>
              <h1>{{runName}} <span class="badge {{statusClass}}">{{status}}</span>{{#lifecycleDeleted}} <span class="badge deleted">deleted</span>{{/lifecycleDeleted}}</h1>
              <p class="muted small">Run <code>{{runID}}</code> in <a href="{{experimentURL}}">{{experimentName}}</a></p>
            </div></div>
            <nav class="pager" aria-label="Run sections">{{#tabs}}<a href="{{url}}"{{#isActive}} aria-current="page"{{/isActive}}>{{label}}</a>{{/tabs}}</nav>
            {{> error_notice}}
            {{#isOverview}}{{> run_overview}}{{/isOverview}}
            {{#isMetrics}}{{> run_metrics}}{{/isMetrics}}
            {{#isArtifacts}}{{#artifacts}}{{> run_artifacts}}{{/artifacts}}{{/isArtifacts}}
            """#
        ),
        (
            "run_overview",
            #"""
            <div class="grid">
            <section class="card" aria-labelledby="details">
              <h2 id="details">Details</h2>
              <dl class="facts">
                <dt>Run ID</dt><dd><code>{{runID}}</code></dd>
                <dt>Experiment</dt><dd><a href="{{experimentURL}}">{{experimentName}}</a> <span class="muted">({{experimentID}})</span></dd>
                <dt>Status</dt><dd><span class="badge {{statusClass}}">{{status}}</span></dd>
                <dt>Started</dt><dd><time title="{{startedAge}}">{{started}} UTC</time></dd>
                <dt>Ended</dt><dd>{{#ended}}<time title="{{endedAge}}">{{ended}} UTC</time>{{/ended}}{{^ended}}—{{/ended}}</dd>
                <dt>Duration</dt><dd>{{#duration}}{{duration}}{{/duration}}{{^duration}}—{{/duration}}</dd>
                <dt>User</dt><dd>{{#user}}{{user}}{{/user}}{{^user}}—{{/user}}</dd>
                <dt>Source</dt><dd>{{#source}}{{source}}{{/source}}{{^source}}—{{/source}}{{#sourceType}} <span class="muted">({{sourceType}})</span>{{/sourceType}}{{#entryPoint}} <span class="muted">entry point {{entryPoint}}</span>{{/entryPoint}}</dd>
                <dt>Git commit</dt><dd>{{#gitCommit}}<code>{{gitCommit}}</code>{{/gitCommit}}{{^gitCommit}}—{{/gitCommit}}</dd>
                <dt>Parent run</dt><dd>{{#parent}}<a href="{{url}}">{{name}}</a>{{/parent}}{{^parent}}—{{/parent}}</dd>
                <dt>Child runs</dt><dd>{{#hasChildren}}{{#children}}<a href="{{url}}">{{name}}</a> <span class="badge {{statusClass}}">{{status}}</span><br>{{/children}}{{#moreChildren}}<a href="{{childrenURL}}">All child runs</a>{{/moreChildren}}{{/hasChildren}}{{^hasChildren}}—{{/hasChildren}}</dd>
                <dt>Registered models</dt><dd>{{#hasModelVersions}}{{#modelVersions}}<a href="{{url}}">{{name}} v{{version}}</a>{{#aliases}} <span class="muted">@{{aliases}}</span>{{/aliases}}<br>{{/modelVersions}}{{/hasModelVersions}}{{^hasModelVersions}}—{{/hasModelVersions}}</dd>
                <dt>Logged models</dt><dd>{{#hasLoggedModels}}{{#loggedModels}}<a href="{{url}}">{{name}}</a> <span class="muted small"><code>{{id}}</code> {{status}}</span><br>{{/loggedModels}}{{/hasLoggedModels}}{{^hasLoggedModels}}—{{/hasLoggedModels}}</dd>
              </dl>
            </section>
            <section class="card" aria-labelledby="description">
              <h2 id="description">Description</h2>
              {{#hasDescription}}<div class="markdown">{{{descriptionHTML}}}</div>{{/hasDescription}}
              {{^hasDescription}}<p class="muted">No description.</p>{{/hasDescription}}
              <details class="menu">
                <summary>Edit description</summary>
                <form method="post" action="{{descriptionAction}}">
                  {{> csrf_field}}
                  <label for="description-text">Markdown</label><br>
                  <textarea id="description-text" name="value" rows="8" cols="60">{{descriptionSource}}</textarea><br>
                  <button class="primary" type="submit">Save description</button>
                </form>
              </details>
            </section>
            </div>
            <section class="card" aria-labelledby="datasets">
              <h2 id="datasets">Datasets</h2>
              {{#hasDatasets}}
              <div class="table-wrap"><table>
                <thead><tr><th scope="col">Name</th><th scope="col">Digest</th><th scope="col">Context</th><th scope="col">Source</th></tr></thead>
                <tbody>{{#datasets}}<tr><td>{{name}}</td><td><code>{{digest}}</code></td><td>{{context}}</td><td><span class="muted">{{sourceType}}</span> {{source}}</td></tr>{{/datasets}}</tbody>
              </table></div>
              {{/hasDatasets}}
              {{^hasDatasets}}<p class="muted">No datasets were logged as inputs of this run.</p>{{/hasDatasets}}
            </section>
            <section class="card" aria-labelledby="params">
              <h2 id="params">Parameters</h2>
              {{#hasParams}}
              <div class="table-wrap"><table>
                <thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
                <tbody>{{#params}}<tr><td class="mono">{{key}}</td><td>{{value}}</td></tr>{{/params}}</tbody>
              </table></div>
              {{/hasParams}}
              {{^hasParams}}<p class="muted">No parameters.</p>{{/hasParams}}
            </section>
            <section class="card" aria-labelledby="metrics">
              <h2 id="metrics">Metrics</h2>
              {{> run_metric_table}}
            </section>
            <section class="card" aria-labelledby="tags">
              <h2 id="tags">Tags</h2>
              {{#hasTags}}
              <div class="table-wrap"><table>
                <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
                <tbody>
                {{#tags}}
                  <tr><td class="mono">{{key}}</td><td>{{value}}</td>
                  <td><form method="post" action="{{deleteTagAction}}" class="inline">{{> csrf_field}}<input type="hidden" name="key" value="{{key}}"><button class="link danger" type="submit" aria-label="Delete tag {{key}}">Delete</button></form></td></tr>
                {{/tags}}
                </tbody>
              </table></div>
              {{/hasTags}}
              {{^hasTags}}<p class="muted">No tags.</p>{{/hasTags}}
              <form method="post" action="{{setTagAction}}" class="toolbar">
                {{> csrf_field}}
                <label for="tag-key">Key</label><input id="tag-key" type="text" name="key" required maxlength="250">
                <label for="tag-value">Value</label><input id="tag-value" class="grow" type="text" name="value">
                <button class="primary" type="submit">Set tag</button>
              </form>
              {{#hasSystemTags}}
              <details>
                <summary class="muted">System tags</summary>
                <div class="table-wrap"><table>
                  <tbody>{{#systemTags}}<tr><td class="mono">{{key}}</td><td>{{value}}</td></tr>{{/systemTags}}</tbody>
                </table></div>
              </details>
              {{/hasSystemTags}}
            </section>
            """#
        ),
        (
            "run_metric_table",
            #"""
            {{#hasMetrics}}
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Name</th><th scope="col" class="num">Last</th><th scope="col" class="num">Step</th><th scope="col" class="num">Min</th><th scope="col" class="num">Max</th><th scope="col" class="num">Points</th><th scope="col">Chart</th></tr></thead>
              <tbody>
              {{#metrics}}
                <tr><td class="mono">{{key}}</td><td class="num" title="{{lastExact}}">{{last}}</td><td class="num">{{step}}</td><td class="num">{{minimum}}</td><td class="num">{{maximum}}</td><td class="num">{{points}}</td><td><a href="{{largeChartURL}}" title="Open the chart to zoom"><img src="{{chartURL}}" alt="{{key}} by step" width="200" height="80" loading="lazy"></a></td></tr>
              {{/metrics}}
              </tbody>
            </table></div>
            {{/hasMetrics}}
            {{^hasMetrics}}<p class="muted">No metrics.</p>{{/hasMetrics}}
            """#
        ),
        (
            "run_metrics",
            #"""
            <section class="card" aria-labelledby="metric-charts">
              <h2 id="metric-charts">Metrics</h2>
              {{> run_metric_table}}
            </section>
            <div class="grid">
            {{#metrics}}
              <figure class="card chart"><a href="{{largeChartURL}}" title="Open the chart to zoom"><img src="{{largeChartURL}}" alt="{{key}} by step" width="640" height="240" loading="lazy"></a><figcaption>{{key}}</figcaption></figure>
            {{/metrics}}
            </div>
            """#
        ),
        (
            "run_artifacts",
            #"""
            <section class="card" aria-labelledby="artifacts">
              <h2 id="artifacts">Artifacts</h2>
              <nav class="pager" aria-label="Artifact roots">{{#roots}}<a href="{{url}}"{{#isActive}} aria-current="page"{{/isActive}}>{{label}}</a>{{/roots}}</nav>
              <p>{{#crumbs}}<a href="{{url}}">{{name}}</a> / {{/crumbs}}</p>
              <div class="grid">
                <ul>
                {{#entries}}
                  <li><a href="{{url}}"{{#isSelected}} aria-current="true"{{/isSelected}}>{{name}}</a> <span class="muted small">{{size}}</span></li>
                {{/entries}}
                {{#isEmpty}}<li class="muted">Nothing here.</li>{{/isEmpty}}
                </ul>
                {{#file}}{{> run_artifact_file}}{{/file}}
              </div>
            </section>
            """#
        ),
        (
            "run_artifact_file",
            #"""
            <article aria-label="Preview of {{name}}">
              <h3>{{path}}</h3>
              <p class="muted small">{{size}} · <a href="{{downloadURL}}" download>Download</a></p>
              {{#preview}}
              {{#notice}}<p class="notice warn">{{notice}}</p>{{/notice}}
              {{#isImage}}<img class="fit" src="{{imageURL}}" alt="{{name}}">{{/isImage}}
              {{#signature}}
                <h4>Signature</h4>
                {{#hasInputs}}<div class="table-wrap"><table><caption>Inputs</caption><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th></tr></thead>
                <tbody>{{#inputs}}<tr><td class="mono">{{name}}</td><td>{{type}}</td><td>{{required}}</td></tr>{{/inputs}}</tbody></table></div>{{/hasInputs}}
                {{#hasOutputs}}<div class="table-wrap"><table><caption>Outputs</caption><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th></tr></thead>
                <tbody>{{#outputs}}<tr><td class="mono">{{name}}</td><td>{{type}}</td><td>{{required}}</td></tr>{{/outputs}}</tbody></table></div>{{/hasOutputs}}
              {{/signature}}
              {{#isTable}}{{#table}}
                <div class="table-wrap"><table>
                  <thead><tr>{{#header}}<th scope="col" class="verbatim">{{.}}</th>{{/header}}</tr></thead>
                  <tbody>{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody>
                </table></div>
                {{#note}}<p class="muted small">{{note}}</p>{{/note}}
              {{/table}}{{/isTable}}
              {{#text}}<pre class="artifact-text"><code>{{text}}</code></pre>{{/text}}
              {{/preview}}
            </article>
            """#
        ),
    ]
}
