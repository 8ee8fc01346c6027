//! The service catalog of Haoban: what the city offers, as data.
//!
//! A catalog version is a folder of YAML definition files (format: `docs/catalog.md`):
//! departments, life events, code lists, data elements (数据元), e-licence types (电子证照类型),
//! materials (材料), service items (事项) with their implementation lists, and bundles (一件事). This crate
//!
//! - parses a version (`raw`: serde structs with spans, so errors can point at a line and
//!   column) and checks it as a whole, collecting every error (`load`);
//! - builds the validated, immutable domain model (`model`) only from a version without a
//!   single error, so code holding a [`Catalog`] never meets a dangling reference;
//! - checks rules (CEL) at load time (`rules`), compiles forms to JSON Schema and validates
//!   submissions against them (`schema`), and merges a bundle's items into one application
//!   (`merge`);
//! - holds the live catalog that request handlers read while an admin swaps in a new version
//!   ([`LiveCatalog`]).
//!
//! - stores published versions in the database and follows the newest one, so a version
//!   published on one instance goes live on every instance without a restart (`store`,
//!   `service`);
//! - serves the catalog's JSON API (`http`).
//!
//! The model, loading and validation depend on `kernel` only. The HTTP layer also uses
//! `identity` to know who is calling (publishing needs a platform administrator); nothing
//! else of another context.

mod error;
pub mod flow;
pub mod http;
mod live;
mod load;
mod merge;
pub mod model;
pub mod pages;
mod raw;
pub mod rules;
mod schema;
pub mod search;
pub mod service;
pub mod store;
mod synthetic;

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use error::{LoadError, MergeError};
pub use live::LiveCatalog;
pub use model::*;
pub use schema::{DRAFT_2020_12, validate_submission};
pub use search::{Hit, SearchIndex};
pub use service::{CatalogService, PublishError, Published, Snapshot};
pub use store::MIGRATIONS;
pub use synthetic::synthetic;

/// One validated catalog version. Immutable: a new version is a new `Catalog`.
#[derive(Debug)]
pub struct Catalog {
    files: Vec<(String, String)>,
    digest: String,
    departments: Vec<Department>,
    life_events: Vec<LifeEvent>,
    code_lists: Vec<CodeList>,
    elements: Vec<Element>,
    licence_types: Vec<LicenceType>,
    materials: Vec<Material>,
    items: Vec<Item>,
    bundles: Vec<Bundle>,
    index: Indexes,
    /// Each item's form schema, compiled once at load.
    item_schemas: HashMap<String, serde_json::Value>,
}

#[derive(Debug, Default)]
struct Indexes {
    departments: HashMap<String, usize>,
    life_events: HashMap<String, usize>,
    code_lists: HashMap<String, usize>,
    elements: HashMap<String, usize>,
    licence_types: HashMap<String, usize>,
    materials: HashMap<String, usize>,
    items: HashMap<String, usize>,
    bundles: HashMap<String, usize>,
}

fn index_of<T>(list: &[T], code: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    list.iter()
        .enumerate()
        .map(|(i, x)| (code(x).to_string(), i))
        .collect()
}

/// SHA-256 over the files in path order, each as path, NUL, length, content, so that no two
/// different sets of files share a digest by concatenation.
fn digest_of(files: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (path, content) in files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update((content.len() as u64).to_le_bytes());
        h.update(content.as_bytes());
    }
    hex::encode(h.finalize())
}

impl Catalog {
    /// Reads every `*.yaml` file below `dir`, in path order, and loads them. Paths in errors
    /// are relative to `dir`, with `/` separators (`items/minzheng.yaml`). Files and folders
    /// whose names start with `.` are skipped (editor and VCS droppings).
    pub fn load_dir(dir: &Path) -> Result<Catalog, Vec<LoadError>> {
        let mut paths = Vec::new();
        let mut errors = Vec::new();
        collect_yaml(dir, dir, &mut paths, &mut errors);
        let mut files = Vec::new();
        for (rel, full) in paths {
            match std::fs::read(&full) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => files.push((rel, text)),
                    Err(_) => errors.push(file_error(
                        &rel,
                        "not_utf8",
                        kernel::Msg::new("文件不是 UTF-8 编码", "the file is not UTF-8"),
                    )),
                },
                Err(e) => errors.push(file_error(
                    &rel,
                    "io",
                    kernel::Msg::owned(
                        format!("无法读取文件：{e}"),
                        format!("cannot read the file: {e}"),
                    ),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Catalog::load_files(files)
    }

    /// Loads a version from (relative path, content) pairs, e.g. an upload or a version stored
    /// in the database. The pairs are taken in path order whatever order they come in.
    pub fn load_files(mut files: Vec<(String, String)>) -> Result<Catalog, Vec<LoadError>> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let duplicates: Vec<LoadError> = files
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| {
                file_error(
                    &w[1].0,
                    "duplicate_file",
                    kernel::Msg::new(
                        "同一路径的文件出现了两次",
                        "the same file path appears twice",
                    ),
                )
            })
            .collect();
        if !duplicates.is_empty() {
            return Err(duplicates);
        }
        let built = load::load(&files)?;
        let mut catalog = Catalog {
            digest: digest_of(&files),
            files,
            index: Indexes {
                departments: index_of(&built.departments, |x| &x.code),
                life_events: index_of(&built.life_events, |x| &x.code),
                code_lists: index_of(&built.code_lists, |x| &x.code),
                elements: index_of(&built.elements, |x| &x.code),
                licence_types: index_of(&built.licence_types, |x| &x.code),
                materials: index_of(&built.materials, |x| &x.code),
                items: index_of(&built.items, |x| &x.code),
                bundles: index_of(&built.bundles, |x| &x.code),
            },
            departments: built.departments,
            life_events: built.life_events,
            code_lists: built.code_lists,
            elements: built.elements,
            licence_types: built.licence_types,
            materials: built.materials,
            items: built.items,
            bundles: built.bundles,
            item_schemas: HashMap::new(),
        };
        catalog.item_schemas = catalog
            .items
            .iter()
            .map(|item| {
                let fields: Vec<&FormField> = item.fields().collect();
                (item.code.clone(), catalog.schema_of(&item.name, fields))
            })
            .collect();
        Ok(catalog)
    }

    /// The files of this version, in path order, as loaded.
    pub fn files(&self) -> &[(String, String)] {
        &self.files
    }

    /// Hex SHA-256 over the files: the same set of files always gives the same digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    pub fn life_events(&self) -> &[LifeEvent] {
        &self.life_events
    }

    pub fn code_lists(&self) -> &[CodeList] {
        &self.code_lists
    }

    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The e-licence types (电子证照类型) the catalog defines.
    pub fn licence_types(&self) -> &[LicenceType] {
        &self.licence_types
    }

    pub fn licence_type(&self, code: &str) -> Option<&LicenceType> {
        self.index
            .licence_types
            .get(code)
            .map(|&i| &self.licence_types[i])
    }

    pub fn materials(&self) -> &[Material] {
        &self.materials
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn bundles(&self) -> &[Bundle] {
        &self.bundles
    }

    pub fn department(&self, code: &str) -> Option<&Department> {
        self.index
            .departments
            .get(code)
            .map(|&i| &self.departments[i])
    }

    pub fn life_event(&self, code: &str) -> Option<&LifeEvent> {
        self.index
            .life_events
            .get(code)
            .map(|&i| &self.life_events[i])
    }

    pub fn code_list(&self, code: &str) -> Option<&CodeList> {
        self.index
            .code_lists
            .get(code)
            .map(|&i| &self.code_lists[i])
    }

    pub fn element(&self, code: &str) -> Option<&Element> {
        self.index.elements.get(code).map(|&i| &self.elements[i])
    }

    pub fn material(&self, code: &str) -> Option<&Material> {
        self.index.materials.get(code).map(|&i| &self.materials[i])
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.index.items.get(code).map(|&i| &self.items[i])
    }

    pub fn bundle(&self, code: &str) -> Option<&Bundle> {
        self.index.bundles.get(code).map(|&i| &self.bundles[i])
    }

    /// Items of a department, in catalog order.
    pub fn items_of_department<'a>(
        &'a self,
        department: &'a str,
    ) -> impl Iterator<Item = &'a Item> {
        self.items
            .iter()
            .filter(move |i| i.department == department)
    }

    /// Items and bundles of a life event, in catalog order.
    pub fn by_life_event<'a>(&'a self, event: &'a str) -> (Vec<&'a Item>, Vec<&'a Bundle>) {
        let has = |list: &[String]| list.iter().any(|e| e == event);
        (
            self.items.iter().filter(|i| has(&i.life_events)).collect(),
            self.bundles
                .iter()
                .filter(|b| has(&b.life_events))
                .collect(),
        )
    }

    /// JSON Schema (draft 2020-12) of an item's form. Given a bundle's code instead, the
    /// schema of the bundle merged with its required items only; use [`Catalog::merge`] for a
    /// choice of optional items.
    pub fn item_schema(&self, item: &str) -> Option<serde_json::Value> {
        if let Some(s) = self.item_schemas.get(item) {
            return Some(s.clone());
        }
        self.bundle(item)
            .and_then(|_| self.merge(item, &[]).ok())
            .map(|m| m.schema)
    }

    /// Validates a submission for an item against its form.
    pub fn validate_item_submission(
        &self,
        item: &str,
        submission: &serde_json::Value,
    ) -> Option<Result<(), Vec<kernel::FieldError>>> {
        self.item_schemas
            .get(item)
            .map(|s| validate_submission(s, submission))
    }

    /// The merged application of a bundle with the chosen optional items (codes of optional
    /// items of the bundle or of bundles it includes). Required items are always included;
    /// included bundles' items come along.
    pub fn merge(
        &self,
        bundle: &str,
        optional_chosen: &[String],
    ) -> Result<MergedBundle, MergeError> {
        merge::merge(self, bundle, optional_chosen)
    }

    /// The schema of a list of fields: each element once, the first field winning; an
    /// element is required when some field requires it and always asks it.
    pub(crate) fn schema_of<'a>(
        &self,
        title: &str,
        fields: impl IntoIterator<Item = &'a FormField>,
    ) -> serde_json::Value {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for f in fields {
            if properties.contains_key(&f.element) {
                continue;
            }
            let Some(el) = self.element(&f.element) else {
                continue;
            };
            let list = el.code_list.as_deref().and_then(|c| self.code_list(c));
            let always = f.required && f.when.is_none();
            properties.insert(f.element.clone(), schema::property(f, el, list, always));
            if always {
                required.push(f.element.clone());
            }
        }
        schema::form_schema(title, properties, required)
    }
}

fn file_error(file: &str, code: &'static str, message: kernel::Msg) -> LoadError {
    LoadError {
        file: file.to_string(),
        path: String::new(),
        line: 0,
        column: 0,
        code,
        message,
    }
}

/// Collects `*.yaml` files below `dir` as (path relative to `root`, full path).
fn collect_yaml(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf)>,
    errors: &mut Vec<LoadError>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            let rel = dir
                .strip_prefix(root)
                .unwrap_or(dir)
                .to_string_lossy()
                .to_string();
            errors.push(file_error(
                &rel,
                "io",
                kernel::Msg::owned(
                    format!("无法读取目录：{e}"),
                    format!("cannot read the folder: {e}"),
                ),
            ));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(root, &path, out, errors);
        } else if name.ends_with(".yaml") {
            let rel: Vec<String> = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            out.push((rel.join("/"), path));
        }
    }
}
