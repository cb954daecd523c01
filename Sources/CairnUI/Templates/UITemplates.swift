/// Every template of the UI, by name. Each area of the UI adds its list here (one line) from
/// its own `<Area>Templates.swift`; names are unique across areas.
public enum UITemplates {
    public static var all: [(name: String, source: String)] {
        core + experiments + runs + runPage + compare + models + monitors + pipelines + auth
    }
}
