//! The live catalog of one instance, following the newest version published in the database,
//! so a catalog loaded on one instance goes live on all of them without a restart.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::Utc;
use kernel::Db;

use crate::search::SearchIndex;
use crate::store;
use crate::{Catalog, LoadError};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the catalog has {} errors", .0.len())]
    Invalid(Vec<LoadError>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct CatalogService {
    db: Db,
    live: Arc<ArcSwap<Snapshot>>,
    version: Arc<AtomicI64>,
}

/// A catalog version with the search index built from it. The service swaps them as one, so a
/// reader never pairs one version's catalog with another version's index.
#[derive(Debug)]
pub struct Snapshot {
    pub catalog: Arc<Catalog>,
    pub index: Arc<SearchIndex>,
}

impl Snapshot {
    /// Indexes `catalog` for search.
    pub fn new(catalog: Catalog) -> Snapshot {
        let index = SearchIndex::build(&catalog);
        Snapshot {
            catalog: Arc::new(catalog),
            index: Arc::new(index),
        }
    }
}

fn live(catalog: Catalog) -> Arc<ArcSwap<Snapshot>> {
    Arc::new(ArcSwap::from_pointee(Snapshot::new(catalog)))
}

/// What a publication made live.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub version: i64,
    pub digest: String,
    pub items: usize,
    pub bundles: usize,
    /// False when the files were the live version already: nothing new was stored.
    pub changed: bool,
}

impl CatalogService {
    /// The newest published version; in a database without one, the definition files in
    /// `initial` (when the folder exists) published as the first version.
    pub async fn open(db: Db, initial: &Path) -> anyhow::Result<CatalogService> {
        if let Some(v) = store::latest(&db).await? {
            let files = store::files(&db, v.id).await?.unwrap_or_default();
            match Catalog::load_files(files) {
                Ok(c) => {
                    return Ok(CatalogService {
                        db,
                        live: live(c),
                        version: Arc::new(AtomicI64::new(v.id)),
                    });
                }
                Err(errors) => {
                    // A newer binary may reject what an older one accepted: say so loudly
                    // and fall back to the shipped files rather than refuse to start.
                    for e in &errors {
                        tracing::error!(error = %e, version = v.id, "stored catalog no longer valid");
                    }
                }
            }
        }
        let catalog = if initial.is_dir() {
            Catalog::load_dir(initial).map_err(|errors| {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::anyhow!(
                    "the catalog in {} is not valid:\n{}",
                    initial.display(),
                    list.join("\n")
                )
            })?
        } else {
            tracing::warn!(dir = %initial.display(), "no catalog folder: starting with an empty catalog");
            Catalog::load_files(Vec::new()).map_err(|_| anyhow::anyhow!("empty catalog refused"))?
        };
        let service = CatalogService {
            db,
            live: live(catalog),
            version: Arc::new(AtomicI64::new(0)),
        };
        let (id, _) = service.record(&service.current(), "system").await?;
        service.version.store(id, Ordering::Release);
        Ok(service)
    }

    pub fn current(&self) -> Arc<Catalog> {
        self.live.load().catalog.clone()
    }

    /// The search index of the current version.
    pub fn current_index(&self) -> Arc<SearchIndex> {
        self.live.load().index.clone()
    }

    /// The current version with its search index, taken together.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.live.load_full()
    }

    pub fn version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    /// Stores a version unless it is the newest one already; answers its id and whether it
    /// was new.
    async fn record(&self, catalog: &Catalog, by: &str) -> Result<(i64, bool), sqlx::Error> {
        if let Some(v) = store::latest(&self.db).await?
            && v.digest == catalog.digest()
        {
            return Ok((v.id, false));
        }
        let id = store::insert(&self.db, catalog.digest(), catalog.files(), by, Utc::now()).await?;
        Ok((id, true))
    }

    async fn store(&self, catalog: Catalog, by: &str) -> Result<Published, sqlx::Error> {
        let (version, changed) = self.record(&catalog, by).await?;
        let published = Published {
            version,
            digest: catalog.digest().to_string(),
            items: catalog.items().len(),
            bundles: catalog.bundles().len(),
            changed,
        };
        self.live.store(Arc::new(Snapshot::new(catalog)));
        self.version.store(version, Ordering::Release);
        if changed {
            tracing::info!(
                version,
                items = published.items,
                bundles = published.bundles,
                by,
                "catalog published"
            );
        }
        Ok(published)
    }

    /// Validates a whole new set of files and makes it live; on any error nothing changes.
    pub async fn publish(
        &self,
        files: Vec<(String, String)>,
        by: &str,
    ) -> Result<Published, PublishError> {
        let catalog = Catalog::load_files(files).map_err(PublishError::Invalid)?;
        Ok(self.store(catalog, by).await?)
    }

    /// Adds files to the live set, replacing files of the same path, and publishes the result.
    pub async fn publish_added(
        &self,
        added: Vec<(String, String)>,
        by: &str,
    ) -> Result<Published, PublishError> {
        let mut files: Vec<(String, String)> = self.current().files().to_vec();
        for (path, content) in added {
            files.retain(|(p, _)| *p != path);
            files.push((path, content));
        }
        self.publish(files, by).await
    }

    /// Takes up a version another instance published; answers whether anything changed.
    pub async fn refresh(&self) -> Result<bool, sqlx::Error> {
        let Some(v) = store::latest(&self.db).await? else {
            return Ok(false);
        };
        if v.id == self.version() {
            return Ok(false);
        }
        let files = store::files(&self.db, v.id).await?.unwrap_or_default();
        match Catalog::load_files(files) {
            Ok(c) => {
                self.live.store(Arc::new(Snapshot::new(c)));
                self.version.store(v.id, Ordering::Release);
                tracing::info!(version = v.id, "catalog version taken up");
                Ok(true)
            }
            Err(errors) => {
                tracing::error!(
                    version = v.id,
                    errors = errors.len(),
                    "published catalog refused here"
                );
                // Do not try this version again on every tick.
                self.version.store(v.id, Ordering::Release);
                Ok(false)
            }
        }
    }

    /// Checks for new versions every `every` until the task is dropped.
    pub fn follow(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = this.refresh().await {
                    tracing::warn!(error = %e, "catalog refresh failed");
                }
            }
        })
    }
}
