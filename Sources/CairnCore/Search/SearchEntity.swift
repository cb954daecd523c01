/// What a search clause or order key refers to, after MLflow's prefix aliases are folded
/// (`metrics.`/`metric.` → `.metric`, `params.`/`param.`/`parameter.`/`parameters.` → `.param`,
/// `tags.`/`tag.` → `.tag`, `attributes.`/`attribute.`/`attr.`/`run.` or no prefix → `.attribute`,
/// `datasets.`/`dataset.` → `.dataset`).
public enum SearchEntity: String, Sendable, Hashable, CaseIterable {
    case metric
    case param
    case tag
    case attribute
    case dataset
}
