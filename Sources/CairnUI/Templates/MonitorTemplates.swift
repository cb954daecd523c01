extension UITemplates {
    /// The monitoring pages: the list and one monitor.
    static let monitors: [(name: String, source: String)] = [
        (
            "monitors",
            #"""
            <h1>Monitors</h1>
            {{#empty}}<p class="muted">No monitor yet: create one with <code>POST /api/cairn/v1/monitors</code> or <code>cairn monitor create</code>.</p>{{/empty}}
            {{^empty}}
            <div class="table-wrap"><table class="data">
              <caption>Monitors and their state</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Model</th><th scope="col">Alias</th><th scope="col">Checks</th><th scope="col">Last evaluation</th><th scope="col">Open alerts</th></tr></thead>
              <tbody>
              {{#rows}}
                <tr{{#firing}} class="firing"{{/firing}}><td class="nowrap"><strong><a href="{{href}}">{{name}}</a></strong></td><td>{{#model}}<a href="{{href}}">{{text}}</a>{{/model}}</td><td>{{#alias}}@{{alias}}{{/alias}}</td><td>{{checks}}</td><td><time title="{{lastRunTitle}}">{{lastRun}}</time></td><td class="num">{{#firing}}<strong class="badge firing">{{openAlerts}} firing</strong>{{/firing}}{{^firing}}0{{/firing}}</td></tr>
              {{/rows}}
              </tbody>
            </table></div>
            {{/empty}}
            """#
        ),
        (
            "monitor",
            #"""
            <h1>Monitor <span class="name">{{name}}</span></h1>
            <dl class="facts">
              <dt>Model</dt><dd>{{#model}}<a href="{{href}}">{{text}}</a>{{/model}}{{#alias}} @{{alias}}{{/alias}}{{^alias}} (newest version with traffic){{/alias}}</dd>
              <dt>Window</dt><dd>{{window}}</dd>
              <dt>Every</dt><dd>{{interval}}</dd>
              <dt>Last evaluation</dt><dd><time title="{{lastRunTitle}}">{{lastRun}}</time></dd>
              {{#hasWebhooks}}<dt>Webhooks</dt><dd>{{#webhooks}}<code>{{.}}</code> {{/webhooks}}</dd>{{/hasWebhooks}}
              {{#hasPipelines}}<dt>Pipelines on alert</dt><dd>{{#pipelines}}<a href="{{href}}">{{text}}</a> {{/pipelines}}</dd>{{/hasPipelines}}
            </dl>
            <h2>Checks</h2>
            <div class="table-wrap"><table class="data checks"><thead><tr><th scope="col">Check</th><th scope="col">Threshold</th><th scope="col">State</th></tr></thead>
              <tbody>{{#checks}}<tr{{#firing}} class="firing"{{/firing}}><td>{{name}}</td><td class="num">{{threshold}}</td><td>{{#firing}}<strong class="badge firing">firing</strong>{{/firing}}{{^firing}}ok{{/firing}}</td></tr>{{/checks}}</tbody>
            </table></div>
            <details><summary>Spec (JSON)</summary><pre class="code">{{spec}}</pre></details>
            <h2>Open alerts</h2>
            {{^openAlerts}}<p class="muted">No open alert.</p>{{/openAlerts}}
            {{#hasOpenAlerts}}
            <div class="table-wrap"><table class="data alerts"><thead><tr><th scope="col">Check</th><th scope="col">Value</th><th scope="col">Threshold</th><th scope="col">Version</th><th scope="col">Fired</th><th scope="col">Message</th></tr></thead><tbody>
            {{#openAlerts}}<tr class="firing"><td>{{check}}</td><td class="num">{{value}}</td><td class="num">{{threshold}}</td><td>{{version}}</td><td><time title="{{firedTitle}}">{{fired}}</time></td><td>{{message}}</td></tr>{{/openAlerts}}
            </tbody></table></div>
            {{/hasOpenAlerts}}
            <h2>Past alerts</h2>
            {{^pastAlerts}}<p class="muted">No resolved alert.</p>{{/pastAlerts}}
            {{#hasPastAlerts}}
            <div class="table-wrap"><table class="data alerts"><thead><tr><th scope="col">Check</th><th scope="col">Value</th><th scope="col">Threshold</th><th scope="col">Version</th><th scope="col">Fired</th><th scope="col">Resolved</th><th scope="col">Message</th></tr></thead><tbody>
            {{#pastAlerts}}<tr><td>{{check}}</td><td class="num">{{value}}</td><td class="num">{{threshold}}</td><td>{{version}}</td><td><time title="{{firedTitle}}">{{fired}}</time></td><td>{{resolved}}</td><td>{{message}}</td></tr>{{/pastAlerts}}
            </tbody></table></div>
            {{/hasPastAlerts}}
            <h2>Webhook deliveries</h2>
            {{^deliveries}}<p class="muted">No webhook call queued.</p>{{/deliveries}}
            {{#hasDeliveries}}
            <div class="table-wrap"><table class="data deliveries"><thead><tr><th scope="col">Event</th><th scope="col">Check</th><th scope="col">URL</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Next attempt</th><th scope="col">Last error</th></tr></thead><tbody>
            {{#deliveries}}<tr><td>{{event}}</td><td>{{check}}</td><td><code>{{url}}</code></td><td>{{state}}</td><td class="num">{{attempts}}</td><td>{{nextAttempt}}</td><td>{{lastError}}</td></tr>{{/deliveries}}
            </tbody></table></div>
            {{/hasDeliveries}}
            <h2>Drift report</h2>
            <p><a href="{{reportHref}}">Open the report on its own</a> (it evaluates the monitor's window now; reading it opens or resolves no alert).</p>
            <iframe class="report" src="{{reportHref}}" sandbox title="Drift report of {{name}}" loading="lazy" width="100%" height="720"></iframe>
            <h2>Latest requests</h2>
            {{^requests}}<p class="muted">No request of this model in the inference log.</p>{{/requests}}
            {{#hasRequests}}
            <div class="table-wrap"><table class="data requests"><caption>The newest {{requestLimit}} requests of the model in the inference log, newest first</caption>
              <thead><tr><th scope="col">Request id</th><th scope="col">Time</th><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Inputs</th><th scope="col">Outputs</th></tr></thead><tbody>
            {{#requests}}<tr{{#failed}} class="failed"{{/failed}}><td><code>{{requestID}}</code></td><td><time title="{{timeTitle}}">{{time}}</time></td><td>{{version}}</td><td class="num">{{status}}</td><td class="num">{{latency}}</td><td><code class="payload">{{inputs}}</code></td><td><code class="payload">{{outputs}}</code></td></tr>{{/requests}}
            </tbody></table></div>
            {{/hasRequests}}
            """#
        ),
    ]
}
