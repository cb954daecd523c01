extension UITemplates {
    /// The model registry's pages: list, model, version, and the alias form they share.
    static let models: [(name: String, source: String)] = [
        (
            "models",
            #"""
            <h1>Registered models</h1>
            <form method="get" action="{{action}}" class="search" role="search">
              <label for="models-q">Name contains</label>
              <input id="models-q" type="search" name="q" value="{{query}}">
              <button type="submit">Search</button>
            </form>
            {{#empty}}<p class="muted">No registered model{{#query}} whose name contains “{{query}}”{{/query}}.</p>{{/empty}}
            {{^empty}}
            <div class="table-wrap"><table class="data">
              <caption>Registered models{{#query}} whose name contains “{{query}}”{{/query}}, page {{pageNumber}}</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Latest version</th><th scope="col">Aliases</th><th scope="col">Description</th><th scope="col">Updated</th></tr></thead>
              <tbody>
              {{#rows}}
                <tr><td class="nowrap"><strong><a href="{{href}}">{{name}}</a></strong></td><td class="num">{{latestVersion}}</td><td>{{aliases}}</td><td>{{description}}</td><td><time title="{{updatedTitle}}">{{updated}}</time></td></tr>
              {{/rows}}
              </tbody>
            </table></div>
            {{/empty}}
            <nav class="pager" aria-label="Pages">{{#previousHref}}<a rel="prev" href="{{previousHref}}">← Previous</a>{{/previousHref}} {{#nextHref}}<a rel="next" href="{{nextHref}}">Next →</a>{{/nextHref}}</nav>
            """#
        ),
        (
            "alias-form",
            #"""
            <section class="alias-form">
              <h2>Move an alias</h2>
              {{#error}}<p class="notice error" role="alert">{{error}}</p>{{/error}}
              <form method="post" action="{{setAction}}">
                <input type="hidden" name="csrf_token" value="{{csrfToken}}">
                <label>Alias <input name="alias" value="{{alias}}" required></label>
                <label>Version <input name="version" value="{{version}}" required inputmode="numeric" list="alias-versions"></label>
                <datalist id="alias-versions">{{#versions}}<option value="{{.}}">{{/versions}}</datalist>
                <button type="submit">Set alias</button>
              </form>
              <form method="post" action="{{deleteAction}}">
                <input type="hidden" name="csrf_token" value="{{csrfToken}}">
                <label>Alias <input name="alias" required></label>
                <button type="submit">Delete alias</button>
              </form>
            </section>
            """#
        ),
        (
            "model",
            #"""
            <h1>Model <span class="name">{{name}}</span></h1>
            {{#description}}<p class="description">{{description}}</p>{{/description}}
            {{#hasTags}}<h2>Tags</h2>{{/hasTags}}
            {{#hasTags}}<div class="table-wrap"><table class="data"><thead><tr><th scope="col">Key</th><th scope="col">Value</th></tr></thead><tbody>{{/hasTags}}
            {{#tags}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/tags}}
            {{#hasTags}}</tbody></table></div>{{/hasTags}}
            <h2>Aliases</h2>
            {{^aliases}}<p class="muted">No alias.</p>{{/aliases}}
            {{#hasAliases}}<ul class="aliases">{{/hasAliases}}{{#aliases}}<li><span class="alias">@{{alias}}</span> → <a href="{{versionHref}}">version {{version}}</a></li>{{/aliases}}{{#hasAliases}}</ul>{{/hasAliases}}
            {{#aliasForm}}{{> alias-form}}{{/aliasForm}}
            <h2>Versions</h2>
            {{^versions}}<p class="muted">No version.</p>{{/versions}}
            {{#hasVersions}}
            <div class="table-wrap"><table class="data versions">
              <caption>Versions of {{name}}, newest first</caption>
              <thead><tr><th scope="col">Version</th><th scope="col">Aliases</th><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Run</th><th scope="col">Datasets</th><th scope="col">Pipeline run</th><th scope="col">Tags</th><th scope="col">Created</th></tr></thead>
              <tbody>
            {{/hasVersions}}
              {{#versions}}
                <tr>
                  <td class="nowrap"><strong><a href="{{href}}">{{version}}</a></strong></td>
                  <td>{{#aliases}}<span class="alias">@{{.}}</span> {{/aliases}}</td>
                  <td>{{stage}}</td>
                  <td>{{status}}</td>
                  <td>{{#run}}<a href="{{href}}">{{text}}</a>{{/run}}{{^run}}{{runID}}{{/run}}</td>
                  <td>{{#datasets}}<span class="dataset" title="{{note}}">{{text}}</span> {{/datasets}}</td>
                  <td>{{#pipelineRun}}<a href="{{href}}">{{text}}</a>{{/pipelineRun}}</td>
                  <td>{{#tags}}<span class="tag">{{key}}={{value}}</span> {{/tags}}</td>
                  <td><time title="{{createdTitle}}">{{created}}</time></td>
                </tr>
              {{/versions}}
            {{#hasVersions}}
              </tbody>
            </table></div>
            {{/hasVersions}}
            <nav class="pager" aria-label="Pages">{{#previousHref}}<a rel="prev" href="{{previousHref}}">← Newer</a>{{/previousHref}} {{#nextHref}}<a rel="next" href="{{nextHref}}">Older →</a>{{/nextHref}}</nav>
            """#
        ),
        (
            "model-version",
            #"""
            <h1><a href="{{modelHref}}">{{name}}</a> version {{version}}</h1>
            <dl class="facts">
              <dt>Stage</dt><dd>{{stage}}</dd>
              <dt>Status</dt><dd>{{status}}</dd>
              <dt>Aliases</dt><dd>{{#aliases}}<span class="alias">@{{.}}</span> {{/aliases}}{{^aliases}}none{{/aliases}}</dd>
              <dt>Run</dt><dd>{{#run}}<a href="{{href}}">{{text}}</a>{{/run}}{{^run}}{{runID}}{{/run}}</dd>
              {{#pipelineRun}}<dt>Pipeline run</dt><dd><a href="{{href}}">{{text}}</a></dd>{{/pipelineRun}}
              <dt>Source</dt><dd><code>{{source}}</code></dd>
            </dl>
            {{#description}}<p class="description">{{description}}</p>{{/description}}
            {{#hasTags}}<h2>Tags</h2><div class="table-wrap"><table class="data"><thead><tr><th scope="col">Key</th><th scope="col">Value</th></tr></thead><tbody>{{/hasTags}}
            {{#tags}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/tags}}
            {{#hasTags}}</tbody></table></div>{{/hasTags}}
            <h2>Signature</h2>
            {{#signatureNote}}<p class="muted">{{signatureNote}}</p>{{/signatureNote}}
            {{#inputs}}
            <div class="table-wrap"><table class="data signature"><caption>Inputs</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th></tr></thead>
              <tbody>{{#columns}}<tr><td>{{name}}</td><td>{{type}}</td><td>{{#required}}yes{{/required}}{{^required}}no{{/required}}</td></tr>{{/columns}}
              {{#tensor}}<tr><td colspan="3">{{tensor}}</td></tr>{{/tensor}}</tbody>
            </table></div>
            {{/inputs}}
            {{#outputs}}
            <div class="table-wrap"><table class="data signature"><caption>Outputs</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th></tr></thead>
              <tbody>{{#columns}}<tr><td>{{name}}</td><td>{{type}}</td><td>{{#required}}yes{{/required}}{{^required}}no{{/required}}</td></tr>{{/columns}}
              {{#tensor}}<tr><td colspan="3">{{tensor}}</td></tr>{{/tensor}}</tbody>
            </table></div>
            {{/outputs}}
            {{#inputExample}}<h2>Input example</h2><pre class="code wrap">{{inputExample}}</pre>{{/inputExample}}
            {{#mlmodel}}<h2><code>MLmodel</code></h2><pre class="code">{{mlmodel}}</pre>{{/mlmodel}}
            {{#aliasForm}}{{> alias-form}}{{/aliasForm}}
            <h2>Promotion log</h2>
            {{^promotions}}<p class="muted">No gate decision or rollback recorded for this model.</p>{{/promotions}}
            {{#hasPromotions}}
            <div class="table-wrap"><table class="data promotions"><caption>Promotion log of {{name}}, newest first</caption>
              <thead><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Outcome</th><th scope="col">Alias</th><th scope="col">Candidate</th><th scope="col">Champion</th><th scope="col">Moves</th><th scope="col">Metrics</th><th scope="col">Failures</th><th scope="col">Pipeline run</th></tr></thead>
              <tbody>
            {{/hasPromotions}}
            {{#promotions}}
                <tr{{#concernsThisVersion}} class="current"{{/concernsThisVersion}}><td><time title="{{timeTitle}}">{{time}}</time></td><td>{{kind}}</td><td>{{outcome}}</td><td>@{{alias}}</td><td>{{candidate}}</td><td>{{champion}}</td><td>{{moves}}</td><td>{{metrics}}</td><td>{{#failures}}<div>{{.}}</div>{{/failures}}</td><td>{{#gateRun}}<a href="{{href}}">{{text}}</a>{{/gateRun}}</td></tr>
            {{/promotions}}
            {{#hasPromotions}}
              </tbody>
            </table></div>
            {{/hasPromotions}}
            <h2>Monitors watching it</h2>
            {{^monitors}}<p class="muted">No monitor watches this version.</p>{{/monitors}}
            {{#hasMonitors}}<ul>{{/hasMonitors}}{{#monitors}}<li><a href="{{href}}">{{text}}</a> {{note}}</li>{{/monitors}}{{#hasMonitors}}</ul>{{/hasMonitors}}
            """#
        ),
    ]
}
