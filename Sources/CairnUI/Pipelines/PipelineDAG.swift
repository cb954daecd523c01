import CairnCore

/// A pipeline's stage graph drawn as SVG: stages in layers by their longest path from a stage
/// that needs nothing (so every edge points right), each layer ordered to follow the stages it
/// needs, one box per stage coloured by its state in the last run, one path per dependency.
/// Every name is escaped: the SVG goes into the page as markup Cairn made.
public struct PipelineDAG: Sendable, Equatable {
    public struct Stage: Sendable, Equatable {
        public var name: String
        /// The stages it needs.
        public var upstream: [String]
        /// Its status in the last run (`FINISHED`, `FAILED`…), nil when it has not run.
        public var state: String?
        public var cacheHit: Bool
        /// Where the box links (the stage's part of the run page), if anywhere.
        public var href: String?

        public init(name: String, upstream: [String], state: String? = nil, cacheHit: Bool = false, href: String? = nil) {
            self.name = name
            self.upstream = upstream
            self.state = state
            self.cacheHit = cacheHit
            self.href = href
        }
    }

    public struct Box: Sendable, Equatable {
        public var stage: Stage
        public var layer: Int
        public var x: Int
        public var y: Int
    }

    public static let boxWidth = 168
    public static let boxHeight = 44
    static let columnGap = 56
    static let rowGap = 20
    static let margin = 8
    /// How far an edge that skips a layer rises: it arcs over the boxes between its ends
    /// (a straight path would run behind them and look like the chain through them).
    static let arcLift = 56
    /// Room above the first row for those arcs.
    static let arcRoom = 36
    /// Characters of a name drawn in a box; the full name is in its tooltip.
    static let visibleCharacters = 20

    public let boxes: [Box]
    /// (from, to): `from` is needed by `to`.
    public let edges: [(from: Int, to: Int)]
    public let width: Int
    public let height: Int

    public static func == (a: PipelineDAG, b: PipelineDAG) -> Bool {
        a.boxes == b.boxes && a.edges.map { [$0.from, $0.to] } == b.edges.map { [$0.from, $0.to] }
    }

    /// Stages in spec order; an upstream name that is not a stage is ignored, and a cycle
    /// (which the spec loader refuses) cannot loop: a stage met again on its own path counts
    /// as layer 0 there.
    public init(stages: [Stage]) {
        let index = Dictionary(stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var layers = [Int?](repeating: nil, count: stages.count)
        var visiting = Set<Int>()
        func layer(_ i: Int) -> Int {
            if let known = layers[i] { return known }
            guard visiting.insert(i).inserted else { return 0 }
            let value = stages[i].upstream.compactMap { index[$0] }.map { layer($0) + 1 }.max() ?? 0
            visiting.remove(i)
            layers[i] = value
            return value
        }
        let layerOf = stages.indices.map(layer)
        let layerCount = (layerOf.max() ?? -1) + 1
        // Each layer in spec order first, then by the mean row of the stages it needs, which
        // keeps a chain on one row and cuts most crossings in the small graphs pipelines have.
        var rows = [Int](repeating: 0, count: stages.count)
        var columns: [[Int]] = Array(repeating: [], count: layerCount)
        for i in stages.indices { columns[layerOf[i]].append(i) }
        for l in 0..<layerCount {
            if l > 0 {
                func key(_ i: Int) -> Double {
                    let rowsNeeded = stages[i].upstream.compactMap { index[$0] }.filter { layerOf[$0] < l }.map { Double(rows[$0]) }
                    return rowsNeeded.isEmpty ? Double.infinity : rowsNeeded.reduce(0, +) / Double(rowsNeeded.count)
                }
                columns[l] = columns[l].enumerated().sorted { a, b in
                    let (ka, kb) = (key(a.element), key(b.element))
                    return ka != kb ? ka < kb : a.offset < b.offset
                }.map(\.element)
            }
            for (row, i) in columns[l].enumerated() { rows[i] = row }
        }
        var edges: [(from: Int, to: Int)] = []
        for (i, stage) in stages.enumerated() {
            var seen = Set<Int>()
            for name in stage.upstream {
                guard let from = index[name], from != i, seen.insert(from).inserted else { continue }
                edges.append((from, i))
            }
        }
        self.edges = edges
        let top = Self.margin + (edges.contains { layerOf[$0.to] - layerOf[$0.from] > 1 } ? Self.arcRoom : 0)
        boxes = stages.indices.map { i in
            Box(
                stage: stages[i], layer: layerOf[i], x: Self.margin + layerOf[i] * (Self.boxWidth + Self.columnGap),
                y: top + rows[i] * (Self.boxHeight + Self.rowGap))
        }
        let tallest = columns.map(\.count).max() ?? 0
        width = Self.margin * 2 + max(0, layerCount * Self.boxWidth + (layerCount - 1) * Self.columnGap)
        height = top + Self.margin + max(0, tallest * Self.boxHeight + (tallest - 1) * Self.rowGap)
    }

    /// Fill and stroke for a state, readable in light and dark themes (dark text on a pale fill).
    static func colours(_ state: String?) -> (fill: String, stroke: String) {
        switch state {
        case "FINISHED": ("#d7f5dd", "#2f8a44")
        case "FAILED": ("#fbd9d9", "#b3261e")
        case "RUNNING": ("#d8e8fb", "#1f63b8")
        case "WAITING": ("#eef0f3", "#6b7480")
        case "KILLED": ("#fde7c8", "#a35a00")
        case "SKIPPED": ("#eceef1", "#8a929c")
        default: ("#f4f5f7", "#8a929c")
        }
    }

    /// The drawing; `title` names it for assistive technology.
    public func svg(title: String) -> String {
        let e = HTMLText.escape
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" class="dag" role="img" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" font-family="system-ui, sans-serif" font-size="13">\
            <title>\(e(title))</title>\
            <defs><marker id="dag-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto">\
            <path d="M0,0 L8,4 L0,8 z" fill="#7a828c"/></marker></defs>
            """
        for edge in edges {
            let (a, b) = (boxes[edge.from], boxes[edge.to])
            let (x1, y1) = (a.x + Self.boxWidth, a.y + Self.boxHeight / 2)
            let (x2, y2) = (b.x, b.y + Self.boxHeight / 2)
            let skips = b.layer - a.layer > 1
            // An arc rises steeply at its ends (control points near them) to clear the corners
            // of the boxes it passes over.
            let bend = skips ? 16 : max(16, (x2 - x1) / 2)
            let lift = skips ? Self.arcLift : 0
            out += """
                <path class="dag-edge" d="M\(x1),\(y1) C\(x1 + bend),\(y1 - lift) \(x2 - bend),\(y2 - lift) \(x2),\(y2)" fill="none" \
                stroke="#7a828c" stroke-width="1.5" marker-end="url(#dag-arrow)"><title>\(e(a.stage.name)) → \(e(b.stage.name))</title></path>
                """
        }
        for box in boxes {
            let (fill, stroke) = Self.colours(box.stage.state)
            let name = box.stage.name
            let shown = name.count > Self.visibleCharacters ? String(name.prefix(Self.visibleCharacters - 1)) + "…" : name
            let state = box.stage.state ?? "not run"
            let tooltip = "\(name): \(state)" + (box.stage.cacheHit ? " (cache hit)" : "")
            var node = """
                <g class="dag-node" data-state="\(e(state))"><title>\(e(tooltip))</title>\
                <rect class="dag-box" x="\(box.x)" y="\(box.y)" width="\(Self.boxWidth)" height="\(Self.boxHeight)" rx="6" \
                fill="\(fill)" stroke="\(stroke)" stroke-width="1.5"/>\
                <text x="\(box.x + 10)" y="\(box.y + 18)" fill="#1b1f24" font-weight="600">\(e(shown))</text>\
                <text x="\(box.x + 10)" y="\(box.y + 35)" fill="#3d444d" font-size="11">\(e(state.lowercased()))</text>
                """
            if box.stage.cacheHit {
                node += """
                    <g class="dag-cache-hit"><circle cx="\(box.x + Self.boxWidth - 14)" cy="\(box.y + 14)" r="8" fill="#ffffff" \
                    stroke="\(stroke)"/><text x="\(box.x + Self.boxWidth - 14)" y="\(box.y + 18)" text-anchor="middle" fill="#1b1f24" \
                    font-size="10" font-weight="700">C</text></g>
                    """
            }
            node += "</g>"
            if let href = box.stage.href {
                node = "<a href=\"\(e(href))\">\(node)</a>"
            }
            out += node
        }
        return out + "</svg>"
    }
}
