//! Which split a file or a metadata row belongs to.

/// A split of the release, or a set of the user's own (e.g. made by `faceemo extract`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SplitKind {
    /// Training rows (62,902 in the release).
    Train,
    /// Validation rows (15,946).
    Val,
    /// The FER2013 test set (7,178).
    TestFer2013,
    /// The AffectNet test set (3,006), a dataset unseen in training.
    TestAffectnet,
    /// Any other set, named by its file stem.
    Other(String),
}

/// The release's file-name prefix of the split files.
pub const SPLIT_FILE_PREFIX: &str = "combined_vit_features_";

impl SplitKind {
    /// The four published splits, in release order.
    pub const RELEASE: [SplitKind; 4] = [
        SplitKind::Train,
        SplitKind::Val,
        SplitKind::TestFer2013,
        SplitKind::TestAffectnet,
    ];

    /// The canonical name: `train`, `val`, `test_fer2013`, `test_affectnet`, or the set's own.
    pub fn name(&self) -> &str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
            Self::TestFer2013 => "test_fer2013",
            Self::TestAffectnet => "test_affectnet",
            Self::Other(name) => name,
        }
    }

    /// The split a name stands for: `train`/`training`, `val`/`valid`/`validation`,
    /// `test_fer2013`, `test_affectnet` (any case, `-` or `_`); anything else is `Other`.
    pub fn from_name(name: &str) -> Self {
        let key = normalise(name);
        match key.as_str() {
            "train" | "training" => Self::Train,
            "val" | "valid" | "validation" | "dev" => Self::Val,
            "testfer2013" | "fer2013test" => Self::TestFer2013,
            "testaffectnet" | "affectnettest" => Self::TestAffectnet,
            _ => Self::Other(name.trim().to_owned()),
        }
    }

    /// The split of a feature file, from its stem (`combined_vit_features_val` → `Val`).
    pub fn from_file_stem(stem: &str) -> Self {
        Self::from_name(stem.strip_prefix(SPLIT_FILE_PREFIX).unwrap_or(stem))
    }

    /// The split a metadata row belongs to. A plain `test` split is resolved through the
    /// row's dataset (FER2013 → `TestFer2013`, AffectNet → `TestAffectnet`).
    pub fn from_metadata(split: &str, dataset: &str) -> Self {
        if normalise(split) == "test" {
            match normalise(dataset).as_str() {
                "fer2013" => return Self::TestFer2013,
                "affectnet" => return Self::TestAffectnet,
                _ => {}
            }
        }
        Self::from_name(split)
    }

    /// Whether this is one of the four published splits.
    pub fn is_release_split(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The split's rank in release order (others after, by name).
    fn rank(&self) -> usize {
        Self::RELEASE
            .iter()
            .position(|s| s == self)
            .unwrap_or(Self::RELEASE.len())
    }

    /// Orders splits as the release lists them, user sets last.
    pub fn release_order(a: &Self, b: &Self) -> std::cmp::Ordering {
        a.rank().cmp(&b.rank()).then_with(|| a.name().cmp(b.name()))
    }
}

impl std::fmt::Display for SplitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Lower-case with only letters and digits: `Test-FER2013` → `testfer2013`.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_names_are_normalised() {
        assert_eq!(SplitKind::from_name("Training"), SplitKind::Train);
        assert_eq!(SplitKind::from_name("validation"), SplitKind::Val);
        assert_eq!(SplitKind::from_name("valid"), SplitKind::Val);
        assert_eq!(SplitKind::from_name("test-FER2013"), SplitKind::TestFer2013);
        assert_eq!(
            SplitKind::from_name("test_affectnet"),
            SplitKind::TestAffectnet
        );
        assert_eq!(
            SplitKind::from_name("mine"),
            SplitKind::Other("mine".into())
        );
    }

    #[test]
    fn file_stems_drop_the_release_prefix() {
        assert_eq!(
            SplitKind::from_file_stem("combined_vit_features_test_fer2013"),
            SplitKind::TestFer2013
        );
        assert_eq!(
            SplitKind::from_file_stem("my_faces"),
            SplitKind::Other("my_faces".into())
        );
    }

    #[test]
    fn a_plain_test_split_is_resolved_by_dataset() {
        assert_eq!(
            SplitKind::from_metadata("test", "FER2013"),
            SplitKind::TestFer2013
        );
        assert_eq!(
            SplitKind::from_metadata("Test", "AffectNet"),
            SplitKind::TestAffectnet
        );
        assert_eq!(
            SplitKind::from_metadata("test", "RAF-DB"),
            SplitKind::Other("test".into())
        );
        assert_eq!(
            SplitKind::from_metadata("train", "FER2013"),
            SplitKind::Train
        );
    }

    #[test]
    fn release_order_puts_user_sets_last() {
        let mut splits = vec![
            SplitKind::Other("a".into()),
            SplitKind::TestAffectnet,
            SplitKind::Train,
            SplitKind::Val,
        ];
        splits.sort_by(SplitKind::release_order);
        assert_eq!(
            splits,
            [
                SplitKind::Train,
                SplitKind::Val,
                SplitKind::TestAffectnet,
                SplitKind::Other("a".into())
            ]
        );
    }
}
