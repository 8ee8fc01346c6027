//! The live catalog shared by request handlers.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::{Catalog, LoadError};

/// The catalog in force. Readers take the current version without locking and keep it for
/// their whole request; a swap replaces it whole, so no reader ever sees half a version.
#[derive(Clone)]
pub struct LiveCatalog {
    current: Arc<ArcSwap<Catalog>>,
}

impl LiveCatalog {
    pub fn new(c: Catalog) -> Self {
        LiveCatalog {
            current: Arc::new(ArcSwap::from_pointee(c)),
        }
    }

    /// The version in force now.
    pub fn current(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Makes `c` the version in force. It is already validated: a `Catalog` only exists for
    /// a version without errors.
    pub fn swap(&self, c: Catalog) {
        self.current.store(Arc::new(c));
    }

    /// Loads a version from files and makes it live only if it has no error; on any error
    /// the version in force stays as it was.
    pub fn load_files(&self, files: Vec<(String, String)>) -> Result<Arc<Catalog>, Vec<LoadError>> {
        let c = Arc::new(Catalog::load_files(files)?);
        self.current.store(c.clone());
        Ok(c)
    }
}

impl std::fmt::Debug for LiveCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCatalog")
            .field("digest", &self.current().digest())
            .finish()
    }
}
