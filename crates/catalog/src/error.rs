//! Located load errors and merge errors.

use std::fmt;

use kernel::Msg;

/// One thing wrong with a catalog version, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadError {
    /// Path of the file relative to the catalog folder, with `/` separators.
    pub file: String,
    /// Where in the document, e.g. `items[3].form.pages[0].fields[2].element`; empty for the
    /// file as a whole.
    pub path: String,
    /// 1-based; 0 when the error has no position in the file.
    pub line: usize,
    /// 1-based; 0 when the error has no position in the file.
    pub column: usize,
    /// Stable, for programs and tests: `unknown_element`, `duplicate_code`, …
    pub code: &'static str,
    pub message: Msg,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message.en)
    }
}

impl std::error::Error for LoadError {}

/// Why a bundle could not be merged with the chosen optional items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no bundle \"{0}\"")]
    UnknownBundle(String),
    #[error("\"{item}\" is not an optional item of bundle \"{bundle}\"")]
    NotOptional { bundle: String, item: String },
}

impl MergeError {
    pub fn code(&self) -> &'static str {
        match self {
            MergeError::UnknownBundle(_) => "unknown_bundle",
            MergeError::NotOptional { .. } => "not_optional",
        }
    }

    pub fn message(&self) -> Msg {
        match self {
            MergeError::UnknownBundle(b) => {
                Msg::owned(format!("没有“{b}”这件事"), self.to_string())
            }
            MergeError::NotOptional { bundle, item } => Msg::owned(
                format!("“{item}”不是“{bundle}”的可选事项"),
                self.to_string(),
            ),
        }
    }
}
