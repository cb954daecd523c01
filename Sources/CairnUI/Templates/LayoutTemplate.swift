/// The document around every page: header navigation, breadcrumbs, the page, the footer.
/// `content` is the page's HTML, rendered (and escaped) before it reaches this slot. The icon
/// is inline, so no page asks the server for `/favicon.ico`.
enum LayoutTemplate {
    static let source = #"""
        <!doctype html>
        <html lang="en" data-prefix="{{prefix}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>{{title}} · Cairn</title>
        <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect x='3' y='3' width='10' height='10' rx='2' transform='rotate(45 8 8)' fill='%232563eb'/%3E%3C/svg%3E">
        <link rel="stylesheet" href="{{stylesheetURL}}">
        <script src="{{scriptURL}}" defer></script>
        </head>
        <body{{#refreshSeconds}} data-refresh="{{refreshSeconds}}"{{/refreshSeconds}}>
        <header class="site"><div class="bar">
        <a class="brand" href="{{homeURL}}">Cairn</a>
        <nav aria-label="Sections">{{#nav}}<a href="{{href}}"{{#active}} aria-current="page"{{/active}}>{{title}}</a>{{/nav}}</nav>
        </div></header>
        <main>
        {{#hasBreadcrumbs}}<nav class="breadcrumbs" aria-label="Breadcrumbs"><ol>{{#breadcrumbs}}<li>{{#href}}<a href="{{href}}">{{title}}</a>{{/href}}{{^href}}<span aria-current="page">{{title}}</span>{{/href}}</li>{{/breadcrumbs}}</ol></nav>{{/hasBreadcrumbs}}
        {{{content}}}
        </main>
        <footer class="site">Cairn {{version}}</footer>
        </body>
        </html>

        """#
}
