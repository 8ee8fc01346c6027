//! Reading files: YAML into nodes, nodes into the raw layer, one definition at a time.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use kernel::Msg;
use marked_yaml::types::{MarkedMappingNode, MarkedSequenceNode};
use marked_yaml::{LoaderOptions, Marker, Node, Span};
use serde::de::DeserializeOwned;

use super::{Checker, Entry, Parsed, Section, position};

impl Checker<'_> {
    pub(super) fn parse_file(&mut self, file: usize, text: &str, out: &mut Parsed) {
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        // The YAML loader has `unreachable!()` arms; a file must never take the process down.
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            marked_yaml::parse_yaml_with_options(file, text, options)
        }));
        let node = match parsed {
            Ok(Ok(node)) => node,
            Ok(Err(e)) => return self.yaml_error(file, text, e),
            Err(_) => {
                self.file_unread = true;
                let message = Msg::new("YAML 无法解析", "the YAML could not be parsed");
                return self.push(file, "", &Span::new_blank(), "yaml_syntax", message);
            }
        };
        let Some(top) = node.as_mapping() else {
            return;
        };
        self.parse_top(file, top, out);
    }

    fn yaml_error(&mut self, file: usize, text: &str, e: marked_yaml::LoadError) {
        use marked_yaml::LoadError as E;
        let (marker, code, message) = match &e {
            E::TopLevelMustBeMapping(m) => {
                // An empty file, or one with only comments, defines nothing: that is fine.
                if text
                    .lines()
                    .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
                {
                    return;
                }
                (
                    *m,
                    "bad_shape",
                    Msg::new(
                        "文件顶层应为映射（departments:、items: 等）",
                        "the top level of the file must be a mapping (departments:, items:, …)",
                    ),
                )
            }
            E::TopLevelMustBeSequence(m) => (
                *m,
                "bad_shape",
                Msg::new(
                    "文件顶层应为映射",
                    "the top level of the file must be a mapping",
                ),
            ),
            E::UnexpectedAnchor(m) => (
                *m,
                "yaml_syntax",
                Msg::new(
                    "不支持 YAML 锚点和别名（& 和 *）",
                    "YAML anchors and aliases (& and *) are not supported",
                ),
            ),
            E::MappingKeyMustBeScalar(m) => (
                *m,
                "yaml_syntax",
                Msg::new(
                    "映射的键应为简单值",
                    "keys of mappings must be plain values",
                ),
            ),
            E::UnexpectedTag(m) => (
                *m,
                "yaml_syntax",
                Msg::new(
                    "不支持 YAML 标签（!tag）",
                    "YAML tags (!tag) are not supported",
                ),
            ),
            E::ScanError(m, s) => {
                let info = s.info().to_string();
                (
                    *m,
                    "yaml_syntax",
                    Msg::owned(
                        format!("YAML 语法错误：{info}"),
                        format!("YAML syntax: {info}"),
                    ),
                )
            }
            E::DuplicateKey(inner) => {
                let key = inner.key.as_str().to_string();
                let (first_line, _) = position(inner.prev_key.span());
                (
                    inner
                        .key
                        .span()
                        .start()
                        .copied()
                        .unwrap_or(Marker::new(0, 0, 0, 0)),
                    "duplicate_key",
                    Msg::owned(
                        format!("键“{key}”重复（第一次在第{first_line}行）"),
                        format!("duplicate key \"{key}\" (first at line {first_line})"),
                    ),
                )
            }
        };
        self.file_unread = true;
        self.push(file, "", &Span::new_start(marker), code, message);
    }

    fn parse_top(&mut self, file: usize, top: &MarkedMappingNode, out: &mut Parsed) {
        for (key, value) in top.iter() {
            let Some(section) = Section::from_key(key.as_str()) else {
                let message = Msg::owned(
                    format!(
                        "未知的部分“{}”，可用：departments、life_events、code_lists、elements、licence_types、materials、items、bundles",
                        key.as_str()
                    ),
                    format!(
                        "unknown section \"{}\"; expected departments, life_events, code_lists, elements, licence_types, materials, items or bundles",
                        key.as_str()
                    ),
                );
                self.push(file, key.as_str(), key.span(), "unknown_section", message);
                continue;
            };
            let seq = match value {
                Node::Sequence(seq) => seq,
                Node::Scalar(s) if s.as_str().is_empty() || s.as_str() == "~" => continue,
                _ => {
                    let message = Msg::owned(
                        format!("“{}”应为列表", section.key()),
                        format!("\"{}\" must be a list", section.key()),
                    );
                    self.push(file, section.key(), value.span(), "not_a_list", message);
                    continue;
                }
            };
            match section {
                Section::Departments => {
                    self.entries(file, section, seq, &mut out.departments, &mut out.broken)
                }
                Section::LifeEvents => {
                    self.entries(file, section, seq, &mut out.life_events, &mut out.broken)
                }
                Section::CodeLists => {
                    self.entries(file, section, seq, &mut out.code_lists, &mut out.broken)
                }
                Section::Elements => {
                    self.entries(file, section, seq, &mut out.elements, &mut out.broken)
                }
                Section::LicenceTypes => {
                    self.entries(file, section, seq, &mut out.licence_types, &mut out.broken)
                }
                Section::Materials => {
                    self.entries(file, section, seq, &mut out.materials, &mut out.broken)
                }
                Section::Items => self.entries(file, section, seq, &mut out.items, &mut out.broken),
                Section::Bundles => {
                    self.entries(file, section, seq, &mut out.bundles, &mut out.broken)
                }
            }
        }
    }

    /// Parses each definition of a section on its own, so one bad definition does not hide
    /// the errors of the others.
    fn entries<T: DeserializeOwned>(
        &mut self,
        file: usize,
        section: Section,
        seq: &MarkedSequenceNode,
        out: &mut Vec<Entry<T>>,
        broken: &mut HashMap<Section, HashSet<String>>,
    ) {
        for (i, node) in seq.iter().enumerate() {
            let path = format!("{}[{i}]", section.key());
            match marked_yaml::from_node::<T>(node) {
                Ok(raw) => out.push(Entry { file, path, raw }),
                Err(e) => {
                    if let Some(code) = node.as_mapping().and_then(|m| m.get_scalar("code")) {
                        broken
                            .entry(section)
                            .or_default()
                            .insert(code.as_str().to_string());
                    }
                    self.shape_errors::<T>(file, &path, node, e);
                }
            }
        }
    }

    /// Reports a definition's shape errors: serde stops at the first, so the offending key is
    /// taken out of a copy and the definition parsed again, until it parses or the error
    /// cannot be taken out (a missing key, a bad list element).
    fn shape_errors<T: DeserializeOwned>(
        &mut self,
        file: usize,
        path: &str,
        node: &Node,
        first: marked_yaml::FromNodeError,
    ) {
        const MAX_PER_DEFINITION: usize = 20;
        let mut node = node.clone();
        let mut err = first;
        let mut removed: Vec<(String, String)> = Vec::new();
        for _ in 0..MAX_PER_DEFINITION {
            let rel = err.path().unwrap_or_default().to_string();
            let (code, message) = shape_message(&err);
            let target = removable(&err, &rel);
            if code == "missing_key" {
                // Missing because a wrong value was taken out: already reported.
                let key = err.to_string();
                let key = key.split('`').nth(1).unwrap_or_default();
                if removed.iter().any(|(p, k)| *p == rel && k == key) {
                    return;
                }
            }
            let full = match rel.as_str() {
                "" => path.to_string(),
                p if p.starts_with('[') => format!("{path}{p}"),
                p => format!("{path}.{p}"),
            };
            let span = err.start_mark().map_or(*node.span(), Span::new_start);
            self.push(file, full, &span, code, message);
            let Some((parent, key)) = target else {
                return;
            };
            let Some(map) = node_at(&mut node, &parent).and_then(Node::as_mapping_mut) else {
                return;
            };
            if map.remove(key.as_str()).is_none() {
                return;
            }
            removed.push((parent, key));
            match marked_yaml::from_node::<T>(&node) {
                Ok(_) => return,
                Err(e) => err = e,
            }
        }
    }
}

/// The mapping (by path) and key to take out so the rest of a definition can be checked.
fn removable(e: &marked_yaml::FromNodeError, rel: &str) -> Option<(String, String)> {
    let key_of = |rel: &str, key: &str| {
        let parent = rel.strip_suffix(key)?.strip_suffix('.').unwrap_or_default();
        Some((parent.to_string(), key.to_string()))
    };
    match &**e {
        marked_yaml::Error::UnknownFieldError(field, _, _) => key_of(rel, field),
        marked_yaml::Error::Other(text, _) if text.starts_with("missing field") => None,
        _ => {
            let last = rel.rsplit('.').next()?;
            if last.is_empty() || last.ends_with(']') {
                return None;
            }
            key_of(rel, last)
        }
    }
}

/// The node at a path such as `form.pages[1].fields[2]` below `node`.
fn node_at<'a>(node: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    let mut cur = node;
    if path.is_empty() {
        return Some(cur);
    }
    for segment in path.split('.') {
        let mut parts = segment.split('[');
        let key = parts.next()?;
        if !key.is_empty() {
            cur = cur.as_mapping_mut()?.get_mut(key)?;
        }
        for index in parts {
            let i: usize = index.strip_suffix(']')?.parse().ok()?;
            cur = cur.as_sequence_mut()?.get_mut(i)?;
        }
    }
    Some(cur)
}

/// The error code and message of a definition that does not have the expected shape.
fn shape_message(e: &marked_yaml::FromNodeError) -> (&'static str, Msg) {
    use marked_yaml::Error as E;
    match &**e {
        E::UnknownFieldError(field, expected, _) => {
            let list = expected.join(", ");
            (
                "unknown_key",
                Msg::owned(
                    format!("未知的键“{field}”，可用的键：{list}"),
                    format!("unknown key \"{field}\"; expected one of: {list}"),
                ),
            )
        }
        E::NotBoolean(_) => (
            "wrong_type",
            Msg::new("应为 true 或 false", "must be true or false"),
        ),
        E::IntegerParseFailure(..) => {
            ("wrong_type", Msg::new("应为整数", "must be a whole number"))
        }
        E::FloatParseFailure(..) => ("wrong_type", Msg::new("应为数字", "must be a number")),
        E::Other(text, _) => {
            let quoted = text.split('`').nth(1).unwrap_or_default().to_string();
            if text.starts_with("missing field") {
                (
                    "missing_key",
                    Msg::owned(
                        format!("缺少键“{quoted}”"),
                        format!("missing key \"{quoted}\""),
                    ),
                )
            } else if text.starts_with("unknown variant") {
                let expected = text
                    .split_once("expected ")
                    .map(|(_, x)| {
                        x.trim_start_matches("one of ")
                            .replace('`', "")
                            .replace(" or ", ", ")
                    })
                    .unwrap_or_default();
                (
                    "bad_value",
                    Msg::owned(
                        format!("取值“{quoted}”不在允许范围内，可用：{expected}"),
                        format!("\"{quoted}\" is not allowed here; expected one of: {expected}"),
                    ),
                )
            } else if let Some(rest) = text.strip_prefix("invalid type: ") {
                let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
                let expected_en = type_en(expected);
                (
                    "wrong_type",
                    Msg::owned(
                        format!(
                            "类型不正确：应为 {}，实为 {}",
                            type_zh(expected),
                            type_zh(found)
                        ),
                        format!("wrong type: expected {expected_en}, found {found}"),
                    ),
                )
            } else {
                (
                    "wrong_type",
                    Msg::owned(format!("取值不正确：{text}"), text.clone()),
                )
            }
        }
    }
}

/// Rust type names in serde's messages, in words.
fn type_en(s: &str) -> String {
    match s.trim() {
        "i64" | "u64" | "i32" | "u32" | "u8" => "a whole number".into(),
        "f64" | "f32" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        s if s.starts_with("struct ") || s.contains("map") => "a mapping".into(),
        s if s.contains("sequence") => "a list".into(),
        other => other.to_string(),
    }
}

/// A few words of serde's type descriptions in Chinese; the rest stays as it is.
fn type_zh(s: &str) -> String {
    let s = s.trim();
    if s.contains("sequence") {
        "列表".into()
    } else if s.contains("map") || s.starts_with("struct") {
        "映射".into()
    } else if s.contains("string") || s.starts_with("variant") {
        "文字".into()
    } else if matches!(s, "i64" | "u64" | "i32" | "u32" | "u8") {
        "整数".into()
    } else if matches!(s, "f64" | "f32") {
        "数字".into()
    } else {
        s.to_string()
    }
}
