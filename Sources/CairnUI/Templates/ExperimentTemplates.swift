extension UITemplates {
    static let experiments: [(name: String, source: String)] = [
        (
            "experiments",
            #"""
            <div class="page-head">
              <div><h1>Experiments</h1><p class="muted small">{{pager.summary}}</p></div>
              <form class="actions" method="post" action="{{createAction}}">
                {{> csrf_field}}
                <input type="hidden" name="back" value="{{returnPath}}">
                <label for="new-experiment" class="muted">New experiment</label>
                <input id="new-experiment" type="text" name="name" value="{{createName}}" placeholder="Name" required maxlength="500">
                <button class="primary" type="submit">Create</button>
              </form>
            </div>
            {{> error_notice}}
            {{#notice}}<div class="notice ok" role="status">{{notice}}</div>{{/notice}}
            <form class="toolbar" method="get" action="{{listAction}}" role="search">
              <input class="grow" type="search" name="q" value="{{query}}" placeholder="Search experiments by name" aria-label="Search experiments by name">
              <input type="hidden" name="view" value="{{view}}">
              <input type="hidden" name="order" value="{{order}}">
              <select name="size" aria-label="Page size" data-autosubmit>{{#sizes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{title}}</option>{{/sizes}}</select>
              <button type="submit">Search</button>
            </form>
            <nav class="toolbar" aria-label="Which experiments">{{#tabs}}{{#current}}<span class="badge info" aria-current="page">{{title}}</span>{{/current}}{{^current}}<a class="badge" href="{{href}}">{{title}}</a>{{/current}}{{/tabs}}</nav>
            <div class="table-wrap">
            <table>
              <thead><tr><th class="num">ID</th>{{#headers}}<th{{#sort}} aria-sort="{{sort}}"{{/sort}}><a href="{{href}}">{{title}}</a></th>{{/headers}}<th>State</th><th>Actions</th></tr></thead>
              <tbody>
              {{#rows}}
              <tr>
                <td class="num mono">{{id}}</td>
                <td>{{#deleted}}<span>{{name}}</span>{{/deleted}}{{^deleted}}<a href="{{href}}">{{name}}</a>{{/deleted}}</td>
                <td class="nowrap"><time title="{{createdAgo}}">{{created}}</time></td>
                <td class="nowrap"><time title="{{updatedAgo}}">{{updated}}</time></td>
                <td><span class="badge {{stage}}">{{stage}}</span></td>
                <td>
                  <div class="actions">
                  {{^deleted}}
                  <details class="menu"><summary>Rename</summary>
                    <form method="post" action="{{renameAction}}">
                      {{> csrf_field}}
                      <input type="hidden" name="back" value="{{returnPath}}">
                      <input type="text" name="new_name" value="{{name}}" aria-label="New name for experiment {{id}}" required maxlength="500">
                      <button type="submit">Save</button>
                    </form>
                  </details>
                  {{#deletable}}<a class="danger" href="{{deleteHref}}">Delete</a>{{/deletable}}
                  {{/deleted}}
                  {{#deleted}}
                  <form class="inline" method="post" action="{{restoreAction}}">
                    {{> csrf_field}}
                    <input type="hidden" name="back" value="{{returnPath}}">
                    <button class="link" type="submit">Restore</button>
                  </form>
                  <a href="{{purgeHref}}">Purge…</a>
                  {{/deleted}}
                  </div>
                </td>
              </tr>
              {{/rows}}
              {{^hasRows}}<tr><td class="empty" colspan="6">{{emptyMessage}}</td></tr>{{/hasRows}}
              </tbody>
            </table>
            </div>
            {{#pager}}{{> pager}}{{/pager}}
            """#
        ),
        (
            "confirm",
            #"""
            <div class="page-head"><div><h1>{{heading}}</h1></div></div>
            {{> error_notice}}
            <div class="card">
              <p>{{message}}</p>
              {{#details}}<p class="muted">{{.}}</p>{{/details}}
              <form class="actions" method="post" action="{{action}}">
                {{> csrf_field}}
                <input type="hidden" name="back" value="{{returnPath}}">
                <button type="submit" class="{{#danger}}danger{{/danger}}{{^danger}}primary{{/danger}}">{{button}}</button>
                <a href="{{cancelHref}}">Cancel</a>
              </form>
            </div>
            """#
        ),
    ]
}
