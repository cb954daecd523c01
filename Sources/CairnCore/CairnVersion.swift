/// The one version string: `cairn --version`, the tracking server's and the scoring
/// server's `GET /version` and the Open Inference Protocol's server metadata all read it.
public enum CairnVersion {
    public static let current = "0.1.0"
}
