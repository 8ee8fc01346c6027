//! Building the model from a version that passed every check.

use marked_yaml::Spanned;

use super::{Built, Indexes, Parsed, S, present_string};
use crate::model::*;
use crate::raw::RawTimeLimit;

fn opt_bool(b: &Option<S<bool>>, default: bool) -> bool {
    b.as_ref().map_or(default, |b| **b)
}

fn strings(list: &[S<String>]) -> Vec<String> {
    list.iter().map(|s| s.trim().to_string()).collect()
}

fn time_limit(t: &RawTimeLimit) -> TimeLimit {
    // Checked to be within 0..=3650 before building.
    let days = |v: &Option<Spanned<i64>>| v.as_ref().map(|d| u32::try_from(**d).unwrap_or(0));
    TimeLimit {
        legal: days(&t.legal),
        promised: days(&t.promised),
    }
}

/// Builds the model from a parse that fully succeeded and passed every check.
pub(super) fn build(p: Parsed, ix: &Indexes) -> Built {
    let elements: Vec<Element> = p
        .elements
        .iter()
        .map(|e| {
            let r = &e.raw;
            Element {
                code: r.code.to_string(),
                name: r.name.trim().to_string(),
                name_en: present_string(&r.name_en),
                r#type: *r.r#type,
                level: *r.level,
                code_list: present_string(&r.code_list),
                min_length: r.min_length.as_ref().map(|v| **v),
                max_length: r.max_length.as_ref().map(|v| **v),
                pattern: r.pattern.as_ref().map(|v| v.to_string()),
                hint: present_string(&r.hint),
                hint_en: present_string(&r.hint_en),
                minimum: r.minimum.as_ref().map(|v| **v),
                maximum: r.maximum.as_ref().map(|v| **v),
            }
        })
        .collect();
    let licence_types = p
        .licence_types
        .iter()
        .map(|e| {
            let r = &e.raw;
            LicenceType {
                code: r.code.to_string(),
                name: r.name.trim().to_string(),
                name_en: present_string(&r.name_en),
                type_code: r.type_code.to_string(),
                issuer: r.issuer.to_string(),
                holder: *r.holder,
                // Checked to be `none` or 1..=100 before building.
                validity_years: r.validity.trim().parse().ok(),
                elements: strings(&r.elements),
            }
        })
        .collect();
    let materials: Vec<Material> = p
        .materials
        .iter()
        .map(|e| {
            let r = &e.raw;
            Material {
                code: r.code.to_string(),
                name: r.name.trim().to_string(),
                name_en: present_string(&r.name_en),
                satisfied_by: *r.satisfied_by,
                elements: r.elements.as_ref().map(|l| strings(l)).unwrap_or_default(),
                licence_type: present_string(&r.licence_type),
                text: present_string(&r.text),
                text_en: present_string(&r.text_en),
                accept: r.accept.as_ref().map(|l| strings(l)).unwrap_or_default(),
            }
        })
        .collect();
    let items = p
        .items
        .iter()
        .map(|e| {
            let r = &e.raw;
            let pages = r
                .form
                .pages
                .iter()
                .map(|page| FormPage {
                    title: page.title.trim().to_string(),
                    title_en: present_string(&page.title_en),
                    fields: page
                        .fields
                        .iter()
                        .map(|f| {
                            let el = &elements[ix.elements.get(&f.element).unwrap_or_default()];
                            FormField {
                                element: f.element.to_string(),
                                required: opt_bool(&f.required, true),
                                label: present_string(&f.label).unwrap_or_else(|| el.name.clone()),
                                label_en: present_string(&f.label_en)
                                    .or_else(|| el.name_en.clone()),
                                when: present_string(&f.when),
                                r#type: el.r#type,
                            }
                        })
                        .collect(),
                })
                .collect();
            let item_materials: Vec<ItemMaterial> = r
                .materials
                .iter()
                .map(|m| ItemMaterial {
                    material: m.material.to_string(),
                    required: opt_bool(&m.required, true),
                })
                .collect();
            let zero_material = item_materials.iter().all(|m| {
                !m.required
                    || ix
                        .materials
                        .get(&m.material)
                        .is_none_or(|i| materials[i].is_zero_paper())
            });
            let conditions =
                r.conditions
                    .as_ref()
                    .map_or_else(Conditions::default, |c| Conditions {
                        text: present_string(&c.text),
                        text_en: present_string(&c.text_en),
                        rules: c
                            .rules
                            .iter()
                            .map(|rule| Rule {
                                code: rule.code.to_string(),
                                expr: rule.expr.trim().to_string(),
                                message: rule.message.trim().to_string(),
                                message_en: present_string(&rule.message_en),
                            })
                            .collect(),
                    });
            Item {
                code: r.code.to_string(),
                name: r.name.trim().to_string(),
                name_en: present_string(&r.name_en),
                aliases: strings(&r.aliases),
                keywords: strings(&r.keywords),
                department: r.department.to_string(),
                kind: *r.kind,
                applicant: *r.applicant,
                life_events: strings(&r.life_events),
                legal_basis: strings(&r.legal_basis),
                conditions,
                shared_data: strings(&r.shared_data),
                form: Form { pages },
                materials: item_materials,
                process: strings(&r.process),
                time_limit: r.time_limit.as_ref().map(time_limit),
                fee: r.fee.as_ref().map(|f| Fee {
                    amount: *f.amount,
                    basis: present_string(&f.basis),
                    basis_en: present_string(&f.basis_en),
                }),
                result: r.result.as_ref().map(|res| ItemResult {
                    name: res.name.trim().to_string(),
                    name_en: present_string(&res.name_en),
                    licence_type: present_string(&res.licence_type),
                }),
                // Checked to be 1..=4 and 0..=1 before building.
                online_depth: u8::try_from(*r.online_depth).unwrap_or(1),
                visits: u8::try_from(*r.visits).unwrap_or(1),
                instant: opt_bool(&r.instant, false),
                window: present_string(&r.window),
                phones: r.phones.as_ref().map(|ph| Phones {
                    consult: present_string(&ph.consult),
                    complaint: present_string(&ph.complaint),
                }),
                zero_material,
            }
        })
        .collect();
    let bundles = p
        .bundles
        .iter()
        .map(|e| {
            let r = &e.raw;
            Bundle {
                code: r.code.to_string(),
                name: r.name.trim().to_string(),
                name_en: present_string(&r.name_en),
                aliases: strings(&r.aliases),
                keywords: strings(&r.keywords),
                life_events: strings(&r.life_events),
                description: present_string(&r.description),
                description_en: present_string(&r.description_en),
                items: r
                    .items
                    .iter()
                    .map(|i| BundleItem {
                        item: i.item.to_string(),
                        required: opt_bool(&i.required, true),
                    })
                    .collect(),
                includes: strings(&r.includes),
                time_limit: r.time_limit.as_ref().map(time_limit),
            }
        })
        .collect();
    Built {
        departments: p
            .departments
            .iter()
            .map(|e| Department {
                code: e.raw.code.to_string(),
                name: e.raw.name.trim().to_string(),
                name_en: present_string(&e.raw.name_en),
                level: *e.raw.level,
                parent: present_string(&e.raw.parent),
            })
            .collect(),
        life_events: p
            .life_events
            .iter()
            .map(|e| LifeEvent {
                code: e.raw.code.to_string(),
                name: e.raw.name.trim().to_string(),
                name_en: present_string(&e.raw.name_en),
            })
            .collect(),
        code_lists: p
            .code_lists
            .iter()
            .map(|e| CodeList {
                code: e.raw.code.to_string(),
                name: e.raw.name.trim().to_string(),
                name_en: present_string(&e.raw.name_en),
                values: e
                    .raw
                    .values
                    .iter()
                    .map(|v| CodeValue {
                        code: v.code.to_string(),
                        name: v.name.trim().to_string(),
                        name_en: present_string(&v.name_en),
                    })
                    .collect(),
            })
            .collect(),
        elements,
        licence_types,
        materials,
        items,
        bundles,
    }
}
