extension UITemplates {
    /// The pipeline pages: the list, one pipeline (its DAG and runs) and one run.
    static let pipelines: [(name: String, source: String)] = [
        (
            "pipelines",
            #"""
            <h1>Pipelines</h1>
            {{#empty}}<p class="muted">No pipeline registered: run <code>cairn pipeline run</code> in a project with a <code>cairn.yaml</code> or <code>dvc.yaml</code>.</p>{{/empty}}
            {{^empty}}
            <div class="table-wrap"><table class="data">
              <caption>Registered pipelines and their last run</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Last run</th><th scope="col">State</th><th scope="col">Trigger</th><th scope="col">Started</th><th scope="col">Project</th></tr></thead>
              <tbody>
              {{#rows}}
                <tr><td class="nowrap"><strong><a href="{{href}}">{{name}}</a></strong></td><td>{{#lastRun}}<a href="{{href}}">{{text}}</a>{{/lastRun}}{{^lastRun}}never run{{/lastRun}}</td><td><span class="badge {{state}}">{{state}}</span></td><td>{{trigger}}</td><td><time title="{{startedTitle}}">{{started}}</time></td><td><code>{{projectDirectory}}</code></td></tr>
              {{/rows}}
              </tbody>
            </table></div>
            {{/empty}}
            """#
        ),
        (
            "pipeline",
            #"""
            <h1>Pipeline <span class="name">{{name}}</span></h1>
            <dl class="facts"><dt>Project</dt><dd><code>{{projectDirectory}}</code></dd><dt>Spec</dt><dd><code>{{specFile}}</code></dd></dl>
            <h2>Stages</h2>
            {{#specError}}<p class="notice error" role="alert">The spec does not load now: {{specError}}</p>{{/specError}}
            <figure class="dag">{{{dagSVG}}}<figcaption>{{stageCount}} stages, {{edgeCount}} dependencies; colours show each stage's state in the last run, <b>C</b> a cache hit.</figcaption></figure>
            <h2>Runs</h2>
            {{^runs}}<p class="muted">No run yet.</p>{{/runs}}
            {{#hasRuns}}
            <div class="table-wrap"><table class="data runs"><caption>Runs of {{name}}, newest first</caption>
              <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Event</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Reason</th></tr></thead><tbody>
            {{#runs}}<tr><td class="nowrap"><strong><a href="{{href}}"><code>{{id}}</code></a></strong></td><td><span class="badge {{status}}">{{status}}</span></td><td>{{trigger}}</td><td><code>{{triggerEvent}}</code></td><td><time title="{{startedTitle}}">{{started}}</time></td><td class="num">{{duration}}</td><td>{{reason}}</td></tr>{{/runs}}
            </tbody></table></div>
            {{/hasRuns}}
            """#
        ),
        (
            "pipeline-run",
            #"""
            <h1><a href="{{pipelineHref}}">{{pipeline}}</a> run <code>{{id}}</code></h1>
            <dl class="facts">
              <dt>Status</dt><dd><span class="badge {{status}}">{{status}}</span>{{#reason}} — {{reason}}{{/reason}}</dd>
              <dt>Trigger</dt><dd>{{trigger}}{{#hasTriggerEvent}} (event <code>{{triggerEvent}}</code>){{/hasTriggerEvent}}</dd>
              <dt>Started</dt><dd><time title="{{startedTitle}}">{{started}}</time></dd>
              <dt>Duration</dt><dd>{{duration}}</dd>
              {{#mlflowRun}}<dt>MLflow run</dt><dd><a href="{{href}}">{{text}}</a></dd>{{/mlflowRun}}
              {{#resumedFrom}}<dt>Resumed from</dt><dd><a href="{{href}}">{{text}}</a></dd>{{/resumedFrom}}
            </dl>
            <figure class="dag">{{{dagSVG}}}</figure>
            <h2>Stages</h2>
            <div class="table-wrap"><table class="data stages"><thead><tr><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Cache</th><th scope="col">Attempts</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">MLflow run</th><th scope="col">Reason</th></tr></thead><tbody>
            {{#stages}}<tr><td class="nowrap"><strong><a href="#{{anchor}}">{{name}}</a></strong></td><td><span class="badge {{status}}">{{status}}</span></td><td>{{#cacheHit}}hit{{#sourceRun}} (from <code>{{sourceRun}}</code>){{/sourceRun}}{{/cacheHit}}{{^cacheHit}}miss{{/cacheHit}}</td><td class="num">{{attempts}}</td><td>{{started}}</td><td class="num">{{duration}}</td><td>{{#stageRun}}<a href="{{href}}">{{text}}</a>{{/stageRun}}</td><td>{{stageReason}}</td></tr>{{/stages}}
            </tbody></table></div>
            <h2>Logs</h2>
            {{#stages}}
            <section class="stage-logs" id="{{anchor}}"><h3>{{name}}</h3>
              {{^hasLogs}}<p class="muted">No output.</p>{{/hasLogs}}
              {{#logsTruncated}}<p class="note">Only the end of each stream is shown.</p>{{/logsTruncated}}
              {{#hasLogs}}{{#hasStdout}}<details open><summary>stdout</summary><pre class="log">{{stdout}}</pre></details>{{/hasStdout}}{{#hasStderr}}<details open><summary>stderr</summary><pre class="log">{{stderr}}</pre></details>{{/hasStderr}}{{/hasLogs}}
            </section>
            {{/stages}}
            <h2>Promotion log</h2>
            {{^promotions}}<p class="muted">No gate of this run recorded a decision.</p>{{/promotions}}
            {{#hasPromotions}}
            <div class="table-wrap"><table class="data promotions"><thead><tr><th scope="col">Time</th><th scope="col">Outcome</th><th scope="col">Alias</th><th scope="col">Candidate</th><th scope="col">Champion</th><th scope="col">Moves</th><th scope="col">Metrics</th><th scope="col">Failures</th></tr></thead><tbody>
            {{#promotions}}<tr><td><time title="{{timeTitle}}">{{time}}</time></td><td>{{outcome}}</td><td>@{{alias}}</td><td>{{candidate}}</td><td>{{champion}}</td><td>{{moves}}</td><td>{{metrics}}</td><td>{{#failures}}<div>{{.}}</div>{{/failures}}</td></tr>{{/promotions}}
            </tbody></table></div>
            {{/hasPromotions}}
            """#
        ),
    ]
}
