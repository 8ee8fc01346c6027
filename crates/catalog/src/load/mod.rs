//! Loading a catalog version: parse every file, check the whole set, and build the model only
//! when nothing at all is wrong. Every error found is kept, each with its location.
//!
//! `parse` reads files into the raw layer, `check` checks the whole set, `build` makes the
//! model.

mod build;
mod check;
mod parse;

use std::collections::{HashMap, HashSet};

use kernel::Msg;
use marked_yaml::Span;

use crate::error::LoadError;
use crate::model::{Bundle, CodeList, Department, Element, Item, LicenceType, LifeEvent, Material};
use crate::raw::*;

/// The sections a file may have, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Section {
    Departments,
    LifeEvents,
    CodeLists,
    Elements,
    LicenceTypes,
    Materials,
    Items,
    Bundles,
}

impl Section {
    const ALL: [Section; 8] = [
        Section::Departments,
        Section::LifeEvents,
        Section::CodeLists,
        Section::Elements,
        Section::LicenceTypes,
        Section::Materials,
        Section::Items,
        Section::Bundles,
    ];

    fn key(self) -> &'static str {
        match self {
            Section::Departments => "departments",
            Section::LifeEvents => "life_events",
            Section::CodeLists => "code_lists",
            Section::Elements => "elements",
            Section::LicenceTypes => "licence_types",
            Section::Materials => "materials",
            Section::Items => "items",
            Section::Bundles => "bundles",
        }
    }

    /// What one definition of the section is called, in Chinese and English.
    fn noun(self) -> (&'static str, &'static str) {
        match self {
            Section::Departments => ("部门", "department"),
            Section::LifeEvents => ("生活事件", "life event"),
            Section::CodeLists => ("代码表", "code list"),
            Section::Elements => ("数据元", "data element"),
            Section::LicenceTypes => ("证照类型", "licence type"),
            Section::Materials => ("材料", "material"),
            Section::Items => ("事项", "item"),
            Section::Bundles => ("一件事", "bundle"),
        }
    }

    fn unknown_code(self) -> &'static str {
        match self {
            Section::Departments => "unknown_department",
            Section::LifeEvents => "unknown_life_event",
            Section::CodeLists => "unknown_code_list",
            Section::Elements => "unknown_element",
            Section::LicenceTypes => "unknown_licence_type",
            Section::Materials => "unknown_material",
            Section::Items => "unknown_item",
            Section::Bundles => "unknown_bundle",
        }
    }

    fn from_key(key: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// One definition that parsed, with where it came from.
struct Entry<T> {
    file: usize,
    /// `items[3]`: the section and the index within its file.
    path: String,
    raw: T,
}

#[derive(Default)]
struct Parsed {
    departments: Vec<Entry<RawDepartment>>,
    life_events: Vec<Entry<RawLifeEvent>>,
    code_lists: Vec<Entry<RawCodeList>>,
    elements: Vec<Entry<RawElement>>,
    licence_types: Vec<Entry<RawLicenceType>>,
    materials: Vec<Entry<RawMaterial>>,
    items: Vec<Entry<RawItem>>,
    bundles: Vec<Entry<RawBundle>>,
    /// Codes of definitions that did not parse: references to them are not reported again.
    broken: HashMap<Section, HashSet<String>>,
}

/// The codes defined in one section: the first definition of each, by entry index.
#[derive(Default)]
struct Index {
    first: HashMap<String, usize>,
    broken: HashSet<String>,
}

impl Index {
    fn get(&self, code: &str) -> Option<usize> {
        self.first.get(code).copied()
    }

    fn knows(&self, code: &str) -> bool {
        self.first.contains_key(code) || self.broken.contains(code)
    }
}

/// The model of a version without errors.
pub(crate) struct Built {
    pub departments: Vec<Department>,
    pub life_events: Vec<LifeEvent>,
    pub code_lists: Vec<CodeList>,
    pub elements: Vec<Element>,
    pub licence_types: Vec<LicenceType>,
    pub materials: Vec<Material>,
    pub items: Vec<Item>,
    pub bundles: Vec<Bundle>,
}

/// Parses and checks `files` (already in path order).
pub(crate) fn load(files: &[(String, String)]) -> Result<Built, Vec<LoadError>> {
    let mut cx = Checker {
        files,
        errors: Vec::new(),
        file_unread: false,
    };
    let mut parsed = Parsed::default();
    for (i, (_, text)) in files.iter().enumerate() {
        cx.parse_file(i, text, &mut parsed);
    }
    let indexes = cx.check(&parsed);
    if !cx.errors.is_empty() {
        // In reading order, as a person fixing them goes through the files.
        let mut errors = cx.errors;
        errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(errors);
    }
    Ok(build::build(parsed, &indexes))
}

struct Checker<'a> {
    files: &'a [(String, String)],
    errors: Vec<LoadError>,
    /// A file did not parse, so what it defines is unknown: undefined references are then
    /// not reported, as they may well be defined there.
    file_unread: bool,
}

fn position(span: &Span) -> (usize, usize) {
    span.start().map_or((0, 0), |m| (m.line(), m.column()))
}

/// An optional text that is really there: YAML's empty value, `~` and `null` count as absent.
fn present(o: &Option<S<String>>) -> Option<&S<String>> {
    o.as_ref()
        .filter(|s| !matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

fn present_string(o: &Option<S<String>>) -> Option<String> {
    present(o).map(|s| s.trim().to_string())
}

/// Codes are letters, digits, `.`, `-` and `_`.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Element codes are dotted CEL identifiers, `subject.field`, so rules can name them.
fn is_element_code(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('.') {
        let mut bytes = part.bytes();
        match bytes.next() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
            _ => return false,
        }
        if !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

impl Checker<'_> {
    fn push(
        &mut self,
        file: usize,
        path: impl Into<String>,
        span: &Span,
        code: &'static str,
        message: Msg,
    ) {
        let (line, column) = position(span);
        self.errors.push(LoadError {
            file: self.files[file].0.clone(),
            path: path.into(),
            line,
            column,
            code,
            message,
        });
    }
}

/// The indexes built while checking, reused to build the model.
struct Indexes {
    departments: Index,
    life_events: Index,
    code_lists: Index,
    elements: Index,
    licence_types: Index,
    materials: Index,
    items: Index,
    bundles: Index,
}
