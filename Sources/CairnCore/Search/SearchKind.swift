/// The MLflow search endpoints whose `filter` / `order_by` strings Cairn parses.
///
/// Every kind shares one tokenizer and one parser; what differs (entity prefixes, keys,
/// comparators, value types) is data in that kind's `SearchGrammar` profile.
public enum SearchKind: String, Sendable, Hashable, CaseIterable {
    /// `runs/search` (`SearchUtils`).
    case runs
    /// `experiments/search` (`SearchExperimentsUtils`).
    case experiments
    /// `registered-models/search` (`SearchModelUtils`).
    case registeredModels
    /// `model-versions/search` (`SearchModelVersionUtils`).
    case modelVersions
    /// `logged-models/search` (`search_logged_model_utils.parse_filter_string`).
    case loggedModels
}
