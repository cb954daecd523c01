/// Generates human-friendly run names like MLflow's (`adjective-noun-number`) for runs
/// created without one.
public enum RunNameGenerator {
    private static let adjectives = [
        "able", "amazing", "awesome", "bold", "brave", "bright", "calm", "capable", "clean", "clever",
        "crisp", "curious", "dapper", "defiant", "eager", "elegant", "fearless", "funny", "gentle", "gifted",
        "glamorous", "honest", "humble", "jolly", "kindly", "lively", "loud", "lucky", "merciful", "mysterious",
        "nimble", "polite", "proud", "quick", "quiet", "rare", "redolent", "resilient", "rogue", "rumbling",
        "sassy", "serious", "shady", "silent", "skillful", "smiling", "spiffy", "stately", "sincere", "tasteful",
        "thoughtful", "trusting", "unique", "upbeat", "valuable", "victorious", "vigilant", "wise", "youthful", "zealous",
    ]
    private static let nouns = [
        "ant", "ape", "asp", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf", "carp", "cat", "chimp",
        "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow", "cub", "deer", "doe", "dog", "dolphin",
        "donkey", "dove", "duck", "eel", "elk", "fawn", "finch", "fish", "flea", "fly", "foal", "fowl", "fox",
        "frog", "gnat", "gnu", "goat", "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse",
        "hound", "jay", "kit", "kite", "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink", "mole",
        "moose", "moth", "mouse", "mule", "newt", "owl", "ox", "panda", "penguin", "perch", "pig", "pug", "quail",
        "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad", "shark", "sheep", "shoat", "shrew", "shrike",
        "skink", "skunk", "sloth", "slug", "smelt", "snail", "snake", "snipe", "sow", "sponge", "squid", "squirrel",
        "stag", "steed", "stoat", "stork", "swan", "tern", "toad", "trout", "turtle", "vole", "wasp", "whale",
        "wolf", "worm", "wren", "yak", "zebra",
    ]

    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let adjective = adjectives.randomElement(using: &generator)!
        let noun = nouns.randomElement(using: &generator)!
        let number = Int.random(in: 0..<1000, using: &generator)
        return "\(adjective)-\(noun)-\(number)"
    }

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }
}
