//! Merging a bundle's items into one application: one form with each data element once, one
//! material list with each material once.

use std::collections::{HashMap, HashSet};

use crate::error::MergeError;
use crate::model::{FormField, FormPage, MergedBundle, MergedMaterial};
use crate::{Bundle, Catalog};

/// What the occurrences of one element across the chosen items say, folded together.
struct Fold {
    page: usize,
    field: usize,
    /// Some occurrence asks it always (no `when`).
    always_asked: bool,
    /// Some occurrence requires it and asks it always.
    always_required: bool,
    any_required: bool,
    whens: Vec<String>,
}

/// The bundle's items with whether each is required, the bundle's own first, then those of
/// included bundles depth-first; an item required anywhere is required.
fn candidates(c: &Catalog, root: &Bundle) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut seen_bundles = HashSet::new();
    let mut stack = vec![root];
    while let Some(b) = stack.pop() {
        if !seen_bundles.insert(b.code.as_str()) {
            continue;
        }
        for bi in &b.items {
            match out.iter_mut().find(|(code, _)| *code == bi.item) {
                Some((_, required)) => *required |= bi.required,
                None => out.push((bi.item.clone(), bi.required)),
            }
        }
        // Reversed so the first include is visited first.
        for inc in b.includes.iter().rev() {
            if let Some(ib) = c.bundle(inc) {
                stack.push(ib);
            }
        }
    }
    out
}

pub(crate) fn merge(
    c: &Catalog,
    bundle: &str,
    chosen: &[String],
) -> Result<MergedBundle, MergeError> {
    let b = c
        .bundle(bundle)
        .ok_or_else(|| MergeError::UnknownBundle(bundle.to_string()))?;
    let candidates = candidates(c, b);
    if let Some(bad) = chosen
        .iter()
        .find(|code| !candidates.iter().any(|(item, _)| item == *code))
    {
        return Err(MergeError::NotOptional {
            bundle: bundle.to_string(),
            item: bad.clone(),
        });
    }
    let items: Vec<&crate::Item> = candidates
        .iter()
        .filter(|(code, required)| *required || chosen.contains(code))
        .filter_map(|(code, _)| c.item(code))
        .collect();

    let mut pages: Vec<FormPage> = Vec::new();
    let mut folds: HashMap<&str, Fold> = HashMap::new();
    let mut fields_before = 0;
    for item in &items {
        for page in &item.form.pages {
            // Pages of the same title (申请人 in every item) become one page.
            let mut target = pages.iter().position(|p| p.title == page.title);
            for f in &page.fields {
                fields_before += 1;
                if let Some(fold) = folds.get_mut(f.element.as_str()) {
                    fold.always_asked |= f.when.is_none();
                    fold.always_required |= f.required && f.when.is_none();
                    fold.any_required |= f.required;
                    if let Some(w) = &f.when
                        && !fold.whens.contains(w)
                    {
                        fold.whens.push(w.clone());
                    }
                    continue;
                }
                let pi = *target.get_or_insert_with(|| {
                    pages.push(FormPage {
                        title: page.title.clone(),
                        title_en: page.title_en.clone(),
                        fields: Vec::new(),
                    });
                    pages.len() - 1
                });
                pages[pi].fields.push(f.clone());
                folds.insert(
                    &f.element,
                    Fold {
                        page: pi,
                        field: pages[pi].fields.len() - 1,
                        always_asked: f.when.is_none(),
                        always_required: f.required && f.when.is_none(),
                        any_required: f.required,
                        whens: f.when.iter().cloned().collect(),
                    },
                );
            }
        }
    }
    for fold in folds.values() {
        let field: &mut FormField = &mut pages[fold.page].fields[fold.field];
        if fold.always_asked {
            // Asked always by one item: asked always in the bundle; required only if an item
            // requires it unconditionally (a conditional requirement cannot be kept without
            // its condition).
            field.when = None;
            field.required = fold.always_required;
        } else {
            // Asked only conditionally everywhere: asked when any item's condition holds.
            field.when = Some(if fold.whens.len() == 1 {
                fold.whens[0].clone()
            } else {
                fold.whens
                    .iter()
                    .map(|w| format!("({w})"))
                    .collect::<Vec<_>>()
                    .join(" || ")
            });
            field.required = fold.any_required;
        }
    }
    let fields_after = pages.iter().map(|p| p.fields.len()).sum();

    let mut materials: Vec<MergedMaterial> = Vec::new();
    let mut materials_before = 0;
    for item in &items {
        for m in &item.materials {
            materials_before += 1;
            if let Some(mm) = materials.iter_mut().find(|x| x.material == m.material) {
                mm.required |= m.required;
                if !mm.items.contains(&item.code) {
                    mm.items.push(item.code.clone());
                }
                continue;
            }
            let Some(def) = c.material(&m.material) else {
                continue;
            };
            materials.push(MergedMaterial {
                material: def.code.clone(),
                name: def.name.clone(),
                name_en: def.name_en.clone(),
                satisfied_by: def.satisfied_by,
                items: vec![item.code.clone()],
                required: m.required,
            });
        }
    }
    let schema = c.schema_of(&b.name, pages.iter().flat_map(|p| p.fields.iter()));
    Ok(MergedBundle {
        bundle: b.code.clone(),
        items: items.iter().map(|i| i.code.clone()).collect(),
        fields_before_merge: fields_before,
        fields_after_merge: fields_after,
        materials_before_merge: materials_before,
        materials_after_merge: materials.len(),
        pages,
        materials,
        schema,
    })
}
