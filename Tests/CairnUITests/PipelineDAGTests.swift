import Foundation
import Testing

@testable import CairnUI

/// The DAG layout: layers by longest path, one box per stage, one edge per dependency, names
/// escaped.
@Suite struct PipelineDAGTests {
    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func layersFollowTheLongestPathAndEveryDependencyIsOneEdge() {
        // prepare → featurize → train → evaluate, and prepare → evaluate directly: evaluate is
        // in layer 3 (its longest path), not 1.
        let dag = PipelineDAG(stages: [
            .init(name: "prepare", upstream: []),
            .init(name: "featurize", upstream: ["prepare"]),
            .init(name: "train", upstream: ["featurize"]),
            .init(name: "evaluate", upstream: ["train", "prepare"]),
            .init(name: "report", upstream: []),
        ])
        #expect(dag.boxes.map(\.layer) == [0, 1, 2, 3, 0])
        #expect(dag.edges.count == 4)
        // Every edge points right, so the drawing reads left to right.
        #expect(dag.edges.allSatisfy { dag.boxes[$0.from].x < dag.boxes[$0.to].x })
        // Two stages of one layer never overlap.
        #expect(dag.boxes[0].y != dag.boxes[4].y)
        // The edge that skips two layers arcs over the boxes between its ends, inside the drawing.
        let svgText = dag.svg(title: "t")
        let (x1, y1) = (dag.boxes[0].x + PipelineDAG.boxWidth, dag.boxes[0].y + PipelineDAG.boxHeight / 2)
        let x2 = dag.boxes[3].x
        #expect(svgText.contains("M\(x1),\(y1) C\(x1 + 16),\(y1 - PipelineDAG.arcLift) \(x2 - 16),"))
        #expect(y1 - PipelineDAG.arcLift >= 0)
        // An edge to the next layer stays level.
        let (x3, y3) = (dag.boxes[1].x + PipelineDAG.boxWidth, dag.boxes[1].y + PipelineDAG.boxHeight / 2)
        #expect(svgText.contains("M\(x3),\(y3) C\(x3 + PipelineDAG.columnGap / 2),\(y3) "))
        let svg = dag.svg(title: "t")
        #expect(Self.count("<rect class=\"dag-box\"", in: svg) == 5)
        #expect(Self.count("class=\"dag-edge\"", in: svg) == 4)
    }

    @Test func statesAndCacheHitsAreDrawnAndNamesEscaped() {
        let hostile = "<img src=x onerror=alert(1)>"
        let dag = PipelineDAG(stages: [
            .init(name: hostile, upstream: [], state: "FINISHED", cacheHit: true, href: "/p/runs/1#s\"><script>"),
            .init(name: "b", upstream: [hostile, "missing", hostile], state: "FAILED"),
        ])
        // An unknown upstream name is no edge, a repeated one is one edge.
        #expect(dag.edges.count == 1)
        let svg = dag.svg(title: "<title>")
        #expect(!svg.contains("<img"))
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(Self.count("class=\"dag-cache-hit\"", in: svg) == 1)
        #expect(svg.contains("data-state=\"FINISHED\"") && svg.contains("data-state=\"FAILED\""))
    }

    @Test func aCycleDoesNotLoop() {
        let dag = PipelineDAG(stages: [.init(name: "a", upstream: ["b"]), .init(name: "b", upstream: ["a"])])
        #expect(dag.boxes.count == 2)
        #expect(dag.edges.count == 2)
    }

    @Test func noStagesIsAnEmptyDrawing() {
        let dag = PipelineDAG(stages: [])
        #expect(dag.boxes.isEmpty)
        #expect(dag.svg(title: "none").hasPrefix("<svg"))
    }
}
