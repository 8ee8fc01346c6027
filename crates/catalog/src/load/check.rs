//! Checking the parsed definitions as a whole: codes, references, rules, forms, materials,
//! numbers and texts.

use std::collections::{HashMap, HashSet};

use kernel::Msg;
use marked_yaml::Span;

use super::{
    Checker, Entry, Index, Indexes, Parsed, S, Section, is_code, is_element_code, position, present,
};
use crate::model::{DeptLevel, ElementType, Satisfaction};
use crate::raw::RawTimeLimit;
use crate::rules::{self, RuleProblem};

/// Edit distance, for "did you mean" hints on misspelt references.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn suggestion<'a>(code: &str, known: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let limit = (code.chars().count() / 4).clamp(1, 3);
    known
        .map(|k| (distance(code, k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

struct ElementNames<'a> {
    index: &'a Index,
    subjects: HashSet<&'a str>,
}

impl rules::Names for ElementNames<'_> {
    fn is_element(&self, code: &str) -> bool {
        self.index.knows(code)
    }

    fn is_subject(&self, name: &str) -> bool {
        self.subjects.contains(name)
    }
}

impl Checker<'_> {
    pub(super) fn check(&mut self, p: &Parsed) -> Indexes {
        let broken = |s: Section| p.broken.get(&s).cloned().unwrap_or_default();
        let ix = Indexes {
            departments: self.codes(
                Section::Departments,
                &p.departments,
                |r| &r.code,
                broken(Section::Departments),
            ),
            life_events: self.codes(
                Section::LifeEvents,
                &p.life_events,
                |r| &r.code,
                broken(Section::LifeEvents),
            ),
            code_lists: self.codes(
                Section::CodeLists,
                &p.code_lists,
                |r| &r.code,
                broken(Section::CodeLists),
            ),
            elements: self.codes(
                Section::Elements,
                &p.elements,
                |r| &r.code,
                broken(Section::Elements),
            ),
            licence_types: self.codes(
                Section::LicenceTypes,
                &p.licence_types,
                |r| &r.code,
                broken(Section::LicenceTypes),
            ),
            materials: self.codes(
                Section::Materials,
                &p.materials,
                |r| &r.code,
                broken(Section::Materials),
            ),
            items: self.codes(
                Section::Items,
                &p.items,
                |r| &r.code,
                broken(Section::Items),
            ),
            bundles: self.codes(
                Section::Bundles,
                &p.bundles,
                |r| &r.code,
                broken(Section::Bundles),
            ),
        };
        self.check_departments(p, &ix);
        for e in &p.life_events {
            self.names(e.file, &e.path, &e.raw.name);
        }
        self.check_code_lists(p);
        self.check_elements(p, &ix);
        self.check_licence_types(p, &ix);
        self.check_materials(p, &ix);
        self.check_items(p, &ix);
        self.check_bundles(p, &ix);
        ix
    }

    /// Checks the codes of a section (characters, uniqueness across files) and indexes them.
    fn codes<T>(
        &mut self,
        section: Section,
        entries: &[Entry<T>],
        code: impl Fn(&T) -> &S<String>,
        broken: HashSet<String>,
    ) -> Index {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let c = code(&e.raw);
            let path = format!("{}.code", e.path);
            if !is_code(c) {
                let message = Msg::owned(
                    format!("代码“{}”只能使用字母、数字、“.”、“-”和“_”", c.as_str()),
                    format!(
                        "code \"{}\" may use only letters, digits, \".\", \"-\" and \"_\"",
                        c.as_str()
                    ),
                );
                self.push(e.file, &path, c.span(), "bad_code", message);
            } else if section == Section::Elements && !is_element_code(c) {
                let message = Msg::owned(
                    format!(
                        "数据元代码“{}”应为“主体.字段”形式（如 person.age），各段以字母开头，只含字母、数字和“_”",
                        c.as_str()
                    ),
                    format!(
                        "data element code \"{}\" must be dotted, subject then field (e.g. person.age), each part a letter followed by letters, digits or \"_\"",
                        c.as_str()
                    ),
                );
                self.push(e.file, &path, c.span(), "bad_element_code", message);
            }
            match first.get(c.as_str()) {
                Some(&j) => {
                    let prev = &entries[j];
                    let (line, _) = position(code(&prev.raw).span());
                    let prev_file = &self.files[prev.file].0;
                    let (zh, en) = section.noun();
                    let message = Msg::owned(
                        format!("{zh}代码“{}”重复，已在 {prev_file}:{line} 定义", c.as_str()),
                        format!(
                            "duplicate {en} code \"{}\", first defined at {prev_file}:{line}",
                            c.as_str()
                        ),
                    );
                    self.push(e.file, &path, c.span(), "duplicate_code", message);
                }
                None => {
                    first.insert(c.to_string(), i);
                }
            }
        }
        Index { first, broken }
    }

    /// A reference to a definition of `section`; reports it when undefined.
    fn reference(
        &mut self,
        file: usize,
        path: &str,
        s: &S<String>,
        section: Section,
        index: &Index,
    ) -> Option<usize> {
        if let Some(i) = index.get(s) {
            return Some(i);
        }
        if index.broken.contains(s.as_str()) || self.file_unread {
            return None;
        }
        let (zh, en) = section.noun();
        let hint = suggestion(s, index.first.keys());
        let message = match (section, hint) {
            (Section::Items, None) => Msg::owned(
                format!("没有事项“{}”", s.as_str()),
                format!("no item \"{}\"", s.as_str()),
            ),
            (_, None) => Msg::owned(
                format!("未定义的{zh}“{}”", s.as_str()),
                format!("unknown {en} \"{}\"", s.as_str()),
            ),
            (Section::Items, Some(h)) => Msg::owned(
                format!("没有事项“{}”，是否应为“{h}”？", s.as_str()),
                format!("no item \"{}\"; did you mean \"{h}\"?", s.as_str()),
            ),
            (_, Some(h)) => Msg::owned(
                format!("未定义的{zh}“{}”，是否应为“{h}”？", s.as_str()),
                format!("unknown {en} \"{}\"; did you mean \"{h}\"?", s.as_str()),
            ),
        };
        self.push(file, path, s.span(), section.unknown_code(), message);
        None
    }

    /// Text shown to people must say something.
    fn text(&mut self, file: usize, path: &str, s: &S<String>) {
        if s.trim().is_empty() {
            let message = Msg::new("文字不能为空", "the text must not be empty");
            self.push(file, path, s.span(), "empty_text", message);
        }
    }

    /// The Chinese name is required; an empty English one counts as absent.
    fn names(&mut self, file: usize, path: &str, name: &S<String>) {
        self.text(file, &format!("{path}.name"), name);
    }

    fn texts(&mut self, file: usize, path: &str, list: &[S<String>]) {
        for (i, s) in list.iter().enumerate() {
            self.text(file, &format!("{path}[{i}]"), s);
        }
    }

    fn not_applicable(&mut self, file: usize, path: &str, span: &Span, key: &str, why: Msg) {
        let message = Msg::owned(
            format!("“{key}”不适用：{}", why.zh),
            format!("\"{key}\" does not apply: {}", why.en),
        );
        self.push(file, path, span, "not_applicable", message);
    }

    fn check_departments(&mut self, p: &Parsed, ix: &Indexes) {
        for e in &p.departments {
            let r = &e.raw;
            self.names(e.file, &e.path, &r.name);
            match present(&r.parent) {
                Some(parent) => {
                    let path = format!("{}.parent", e.path);
                    let Some(j) = self.reference(
                        e.file,
                        &path,
                        parent,
                        Section::Departments,
                        &ix.departments,
                    ) else {
                        continue;
                    };
                    let above = *p.departments[j].raw.level;
                    let level = *r.level;
                    if !(above == level || above.depth() + 1 == level.depth()) {
                        let message = Msg::owned(
                            format!(
                                "{}部门的上级应为同级或高一级的部门，“{}”是{}部门",
                                level.name_zh(),
                                parent.as_str(),
                                above.name_zh()
                            ),
                            format!(
                                "a {} department's parent must be at its level or the one above; \"{}\" is {}",
                                level.as_str(),
                                parent.as_str(),
                                above.as_str()
                            ),
                        );
                        self.push(
                            e.file,
                            format!("{}.level", e.path),
                            r.level.span(),
                            "bad_level",
                            message,
                        );
                    }
                }
                None if *r.level != DeptLevel::City => {
                    let message = Msg::owned(
                        format!("{}部门应有上级部门（parent）", r.level.name_zh()),
                        format!("a {} department needs a parent", r.level.as_str()),
                    );
                    self.push(
                        e.file,
                        format!("{}.parent", e.path),
                        r.code.span(),
                        "missing_parent",
                        message,
                    );
                }
                None => {}
            }
        }
        // Departments of one level may hang below each other (bureaus below the city
        // government), so parents can form a loop. Each department has one parent: follow
        // the chain from every department not yet seen (0 = unseen, 1 = on this chain,
        // 2 = done), so each loop is found once, in linear time.
        let parent_of = |i: usize| -> Option<usize> {
            present(&p.departments[i].raw.parent).and_then(|c| ix.departments.get(c))
        };
        let mut state = vec![0u8; p.departments.len()];
        for start in 0..p.departments.len() {
            let mut chain = Vec::new();
            let mut cur = Some(start);
            while let Some(i) = cur {
                match state[i] {
                    0 => {
                        state[i] = 1;
                        chain.push(i);
                        cur = parent_of(i);
                    }
                    1 => {
                        let from = chain.iter().position(|&c| c == i).unwrap_or(0);
                        let names: Vec<&str> = chain[from..]
                            .iter()
                            .chain(std::iter::once(&i))
                            .map(|&c| p.departments[c].raw.code.as_str())
                            .collect();
                        let cycle = names.join(" → ");
                        let message = Msg::owned(
                            format!("上级部门形成循环：{cycle}"),
                            format!("parent departments form a loop: {cycle}"),
                        );
                        let e = &p.departments[i];
                        let span = *present(&e.raw.parent).map_or(e.raw.code.span(), |s| s.span());
                        self.push(
                            e.file,
                            format!("{}.parent", e.path),
                            &span,
                            "parent_cycle",
                            message,
                        );
                        break;
                    }
                    _ => break,
                }
            }
            for c in chain {
                state[c] = 2;
            }
        }
    }

    fn check_code_lists(&mut self, p: &Parsed) {
        for e in &p.code_lists {
            let r = &e.raw;
            self.names(e.file, &e.path, &r.name);
            if r.values.is_empty() {
                let message = Msg::new(
                    "代码表至少要有一个值",
                    "a code list needs at least one value",
                );
                self.push(
                    e.file,
                    format!("{}.values", e.path),
                    r.values.span(),
                    "empty_list",
                    message,
                );
            }
            let mut seen = HashSet::new();
            for (i, v) in r.values.iter().enumerate() {
                let path = format!("{}.values[{i}]", e.path);
                self.names(e.file, &path, &v.name);
                if !is_code(&v.code) {
                    let message = Msg::owned(
                        format!("代码“{}”只能使用字母、数字、“.”、“-”和“_”", v.code.as_str()),
                        format!(
                            "code \"{}\" may use only letters, digits, \".\", \"-\" and \"_\"",
                            v.code.as_str()
                        ),
                    );
                    self.push(
                        e.file,
                        format!("{path}.code"),
                        v.code.span(),
                        "bad_code",
                        message,
                    );
                }
                if !seen.insert(v.code.as_str()) {
                    let message = Msg::owned(
                        format!("代码表中值“{}”重复", v.code.as_str()),
                        format!(
                            "value \"{}\" appears twice in the code list",
                            v.code.as_str()
                        ),
                    );
                    self.push(
                        e.file,
                        format!("{path}.code"),
                        v.code.span(),
                        "duplicate_entry",
                        message,
                    );
                }
            }
        }
    }

    fn check_elements(&mut self, p: &Parsed, ix: &Indexes) {
        for e in &p.elements {
            let r = &e.raw;
            let ty = *r.r#type;
            self.names(e.file, &e.path, &r.name);
            match (ty, present(&r.code_list)) {
                (ElementType::Code, Some(list)) => {
                    let path = format!("{}.code_list", e.path);
                    self.reference(e.file, &path, list, Section::CodeLists, &ix.code_lists);
                }
                (ElementType::Code, None) => {
                    let message = Msg::owned(
                        format!("代码型数据元“{}”需要 code_list", r.code.as_str()),
                        format!(
                            "data element \"{}\" of type code needs a code_list",
                            r.code.as_str()
                        ),
                    );
                    self.push(
                        e.file,
                        format!("{}.code_list", e.path),
                        r.r#type.span(),
                        "missing_code_list",
                        message,
                    );
                }
                (_, Some(list)) => self.not_applicable(
                    e.file,
                    &format!("{}.code_list", e.path),
                    list.span(),
                    "code_list",
                    Msg::new(
                        "只有 code 类型的数据元使用代码表",
                        "only elements of type code use a code list",
                    ),
                ),
                (_, None) => {}
            }
            let text_only = Msg::owned(
                format!(
                    "只适用于 string、text、address 类型，此数据元是 {}",
                    ty.as_str()
                ),
                format!(
                    "only for types string, text and address; this element is {}",
                    ty.as_str()
                ),
            );
            let numbers_only = Msg::owned(
                format!(
                    "只适用于 integer、number、money 类型，此数据元是 {}",
                    ty.as_str()
                ),
                format!(
                    "only for types integer, number and money; this element is {}",
                    ty.as_str()
                ),
            );
            if !ty.is_free_text() {
                for (key, span) in [
                    ("min_length", r.min_length.as_ref().map(|s| *s.span())),
                    ("max_length", r.max_length.as_ref().map(|s| *s.span())),
                    ("pattern", r.pattern.as_ref().map(|s| *s.span())),
                ] {
                    if let Some(span) = span {
                        self.not_applicable(
                            e.file,
                            &format!("{}.{key}", e.path),
                            &span,
                            key,
                            text_only.clone(),
                        );
                    }
                }
            }
            if !ty.is_numeric() {
                for (key, span) in [
                    ("minimum", r.minimum.as_ref().map(|s| *s.span())),
                    ("maximum", r.maximum.as_ref().map(|s| *s.span())),
                ] {
                    if let Some(span) = span {
                        self.not_applicable(
                            e.file,
                            &format!("{}.{key}", e.path),
                            &span,
                            key,
                            numbers_only.clone(),
                        );
                    }
                }
            }
            if let (Some(min), Some(max)) = (&r.min_length, &r.max_length)
                && **min > **max
            {
                let message = Msg::owned(
                    format!("min_length（{}）大于 max_length（{}）", **min, **max),
                    format!(
                        "min_length ({}) is greater than max_length ({})",
                        **min, **max
                    ),
                );
                self.push(
                    e.file,
                    format!("{}.min_length", e.path),
                    min.span(),
                    "min_above_max",
                    message,
                );
            }
            for (key, v) in [("minimum", &r.minimum), ("maximum", &r.maximum)] {
                if let Some(v) = v
                    && !v.is_finite()
                {
                    let message = Msg::new("应为有限的数", "must be a finite number");
                    self.push(
                        e.file,
                        format!("{}.{key}", e.path),
                        v.span(),
                        "out_of_range",
                        message,
                    );
                }
            }
            if let (Some(min), Some(max)) = (&r.minimum, &r.maximum)
                && **min > **max
            {
                let message = Msg::owned(
                    format!("minimum（{}）大于 maximum（{}）", **min, **max),
                    format!("minimum ({}) is greater than maximum ({})", **min, **max),
                );
                self.push(
                    e.file,
                    format!("{}.minimum", e.path),
                    min.span(),
                    "min_above_max",
                    message,
                );
            }
            if let Some(pattern) = &r.pattern
                && let Some(why) = pattern_problem(pattern)
            {
                let message = Msg::owned(
                    format!("正则表达式无效：{why}"),
                    format!("invalid regular expression: {why}"),
                );
                self.push(
                    e.file,
                    format!("{}.pattern", e.path),
                    pattern.span(),
                    "bad_pattern",
                    message,
                );
            }
            if let Some(pattern) = &r.pattern
                && present(&r.hint).is_none()
            {
                let message = Msg::new(
                    "有 pattern 的数据元需要 hint，用平实的话说明应填写的格式，如“6位数字”",
                    "an element with a pattern needs a hint saying the expected form in plain words, such as \"6 digits\"",
                );
                self.push(
                    e.file,
                    format!("{}.hint", e.path),
                    pattern.span(),
                    "missing_hint",
                    message,
                );
            }
        }
    }

    fn check_licence_types(&mut self, p: &Parsed, ix: &Indexes) {
        // The catalogue code goes into every identifier of the type, so two types must not
        // share one.
        let mut type_codes: HashMap<String, (usize, usize)> = HashMap::new();
        for e in &p.licence_types {
            let r = &e.raw;
            let (f, path) = (e.file, e.path.as_str());
            self.names(f, path, &r.name);
            let tc = r.type_code.as_str();
            let tc_ok = tc.len() == 4
                && tc
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if !tc_ok {
                let message = Msg::owned(
                    format!("证照类型代码“{tc}”应为4位数字或大写字母"),
                    format!("type_code \"{tc}\" must be 4 characters of 0-9 and A-Z"),
                );
                self.push(
                    f,
                    format!("{path}.type_code"),
                    r.type_code.span(),
                    "bad_type_code",
                    message,
                );
            } else if let Some(&(pf, line)) = type_codes.get(tc) {
                let prev_file = &self.files[pf].0;
                let message = Msg::owned(
                    format!("证照类型代码“{tc}”重复，已在 {prev_file}:{line} 使用"),
                    format!("duplicate type_code \"{tc}\", first used at {prev_file}:{line}"),
                );
                self.push(
                    f,
                    format!("{path}.type_code"),
                    r.type_code.span(),
                    "duplicate_type_code",
                    message,
                );
            } else {
                type_codes.insert(tc.to_string(), (f, position(r.type_code.span()).0));
            }
            self.reference(
                f,
                &format!("{path}.issuer"),
                &r.issuer,
                Section::Departments,
                &ix.departments,
            );
            let validity = r.validity.trim();
            let years_ok = validity == "none"
                || validity
                    .parse::<u32>()
                    .is_ok_and(|y| (1..=100).contains(&y));
            if !years_ok {
                let message = Msg::owned(
                    format!("有效期应为1到100的年数，或 none（长期有效），而不是“{validity}”"),
                    format!(
                        "validity must be 1 to 100 years, or none for a permanent licence, not \"{validity}\""
                    ),
                );
                self.push(
                    f,
                    format!("{path}.validity"),
                    r.validity.span(),
                    "bad_validity",
                    message,
                );
            }
            if r.elements.is_empty() {
                let message = Msg::new(
                    "证照类型应列出证面上的数据元（elements）",
                    "a licence type must list the data elements printed on it",
                );
                self.push(
                    f,
                    format!("{path}.elements"),
                    r.elements.span(),
                    "missing_elements",
                    message,
                );
            }
            let mut seen = HashSet::new();
            for (i, el) in r.elements.iter().enumerate() {
                let el_path = format!("{path}.elements[{i}]");
                if !seen.insert(el.as_str()) {
                    let message = Msg::owned(
                        format!("数据元“{}”重复列出", el.as_str()),
                        format!("data element \"{}\" is listed twice", el.as_str()),
                    );
                    self.push(f, &el_path, el.span(), "duplicate_element", message);
                    continue;
                }
                self.reference(f, &el_path, el, Section::Elements, &ix.elements);
            }
        }
    }

    fn check_materials(&mut self, p: &Parsed, ix: &Indexes) {
        for e in &p.materials {
            let r = &e.raw;
            let kind = *r.satisfied_by;
            self.names(e.file, &e.path, &r.name);
            let why = Msg::owned(
                format!("此材料的提供方式是 {}", kind.as_str()),
                format!("this material is satisfied by {}", kind.as_str()),
            );
            match (kind, present(&r.licence_type)) {
                (Satisfaction::Licence, None) => {
                    let message = Msg::new(
                        "以电子证照提供的材料需要 licence_type",
                        "a material satisfied by a licence needs a licence_type",
                    );
                    self.push(
                        e.file,
                        format!("{}.licence_type", e.path),
                        r.satisfied_by.span(),
                        "missing_licence_type",
                        message,
                    );
                }
                (Satisfaction::Licence, Some(t)) => {
                    if is_code(t) {
                        self.reference(
                            e.file,
                            &format!("{}.licence_type", e.path),
                            t,
                            Section::LicenceTypes,
                            &ix.licence_types,
                        );
                    } else {
                        let message = Msg::owned(
                            format!("证照类型“{}”只能使用字母、数字、“.”、“-”和“_”", t.as_str()),
                            format!(
                                "licence type \"{}\" may use only letters, digits, \".\", \"-\" and \"_\"",
                                t.as_str()
                            ),
                        );
                        self.push(
                            e.file,
                            format!("{}.licence_type", e.path),
                            t.span(),
                            "bad_code",
                            message,
                        );
                    }
                }
                (_, Some(t)) => self.not_applicable(
                    e.file,
                    &format!("{}.licence_type", e.path),
                    t.span(),
                    "licence_type",
                    why.clone(),
                ),
                (_, None) => {}
            }
            let elements = r.elements.as_ref().filter(|l| !l.is_empty());
            match (kind, elements) {
                (Satisfaction::SharedData, None) => {
                    let message = Msg::new(
                        "以共享数据提供的材料需要列出 elements（查询返回的数据元）",
                        "a material satisfied by shared data needs its elements (what the lookup returns)",
                    );
                    self.push(
                        e.file,
                        format!("{}.elements", e.path),
                        r.satisfied_by.span(),
                        "missing_elements",
                        message,
                    );
                }
                (Satisfaction::SharedData, Some(list)) => {
                    let mut seen = HashSet::new();
                    for (i, el) in list.iter().enumerate() {
                        let path = format!("{}.elements[{i}]", e.path);
                        self.reference(e.file, &path, el, Section::Elements, &ix.elements);
                        if !seen.insert(el.as_str()) {
                            self.duplicate_entry(e.file, &path, el);
                        }
                    }
                }
                (_, Some(list)) => self.not_applicable(
                    e.file,
                    &format!("{}.elements", e.path),
                    list.span(),
                    "elements",
                    why.clone(),
                ),
                (_, None) => {}
            }
            match (kind, present(&r.text)) {
                (Satisfaction::Commitment, None) => {
                    let message = Msg::new(
                        "承诺类材料需要承诺书文字（text）",
                        "a material satisfied by a commitment needs the text the applicant signs",
                    );
                    self.push(
                        e.file,
                        format!("{}.text", e.path),
                        r.satisfied_by.span(),
                        "missing_commitment_text",
                        message,
                    );
                }
                (Satisfaction::Commitment, Some(_)) => {}
                (_, Some(t)) => self.not_applicable(
                    e.file,
                    &format!("{}.text", e.path),
                    t.span(),
                    "text",
                    why.clone(),
                ),
                (_, None) => {}
            }
            if let Some(t) = present(&r.text_en)
                && present(&r.text).is_none()
                && kind == Satisfaction::Commitment
            {
                let message = Msg::new("有英文文字时也要有中文文字", "text_en needs text");
                self.push(
                    e.file,
                    format!("{}.text_en", e.path),
                    t.span(),
                    "missing_commitment_text",
                    message,
                );
            }
            if let Some(accept) = &r.accept {
                if kind != Satisfaction::Upload {
                    self.not_applicable(
                        e.file,
                        &format!("{}.accept", e.path),
                        accept.span(),
                        "accept",
                        why.clone(),
                    );
                }
                for (i, a) in accept.iter().enumerate() {
                    if a.is_empty() || !a.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        let message = Msg::owned(
                            format!("文件类型“{}”应为扩展名，如 pdf", a.as_str()),
                            format!(
                                "file type \"{}\" must be an extension such as pdf",
                                a.as_str()
                            ),
                        );
                        self.push(
                            e.file,
                            format!("{}.accept[{i}]", e.path),
                            a.span(),
                            "bad_value",
                            message,
                        );
                    }
                }
            }
        }
    }

    fn duplicate_entry(&mut self, file: usize, path: &str, s: &S<String>) {
        let message = Msg::owned(
            format!("“{}”在此列表中出现了两次", s.as_str()),
            format!("\"{}\" appears twice in this list", s.as_str()),
        );
        self.push(file, path, s.span(), "duplicate_entry", message);
    }

    fn rule(&mut self, file: usize, path: &str, expr: &S<String>, names: &ElementNames<'_>) {
        for problem in rules::check_rule(expr, names) {
            if self.file_unread
                && matches!(
                    problem,
                    RuleProblem::UnknownElement { .. } | RuleProblem::SubjectOnly { .. }
                )
            {
                continue;
            }
            let (code, message) = match problem {
                RuleProblem::TooLong { chars } => (
                    "rule_too_long",
                    Msg::owned(
                        format!("规则有{chars}个字符，最多{}个", rules::MAX_RULE_CHARS),
                        format!(
                            "the rule has {chars} characters; at most {} are allowed",
                            rules::MAX_RULE_CHARS
                        ),
                    ),
                ),
                RuleProblem::TooDeep => (
                    "bad_rule",
                    Msg::new("规则的括号嵌套过深", "the rule nests brackets too deeply"),
                ),
                RuleProblem::Syntax {
                    line,
                    column,
                    message,
                } => (
                    "bad_rule",
                    Msg::owned(
                        format!("规则无法解析（第{line}行第{column}列）：{message}"),
                        format!(
                            "the rule does not parse (line {line}, column {column}): {message}"
                        ),
                    ),
                ),
                RuleProblem::NotAllowed { what, at } => (
                    "rule_not_allowed",
                    Msg::owned(
                        format!("规则中不允许使用{what}{}", at_zh(at)),
                        format!("rules may not use {what}{}", at_en(at)),
                    ),
                ),
                RuleProblem::UnknownElement { name, at } => {
                    let hint = suggestion(&name, names.index.first.keys());
                    (
                        "unknown_element",
                        match hint {
                            Some(h) => Msg::owned(
                                format!(
                                    "规则使用了未定义的数据元“{name}”{}，是否应为“{h}”？",
                                    at_zh(at)
                                ),
                                format!(
                                    "unknown data element \"{name}\"{}; did you mean \"{h}\"?",
                                    at_en(at)
                                ),
                            ),
                            None => Msg::owned(
                                format!("规则使用了未定义的数据元“{name}”{}", at_zh(at)),
                                format!("unknown data element \"{name}\"{}", at_en(at)),
                            ),
                        },
                    )
                }
                RuleProblem::SubjectOnly { subject, at } => (
                    "unknown_element",
                    Msg::owned(
                        format!(
                            "“{subject}”是主体而不是数据元{}，应写成如 {subject}.name",
                            at_zh(at)
                        ),
                        format!(
                            "\"{subject}\" is a subject, not a data element{}; name a field such as {subject}.name",
                            at_en(at)
                        ),
                    ),
                ),
            };
            self.push(file, path, expr.span(), code, message);
        }
    }

    fn time_limit(&mut self, file: usize, path: &str, t: &RawTimeLimit) {
        for (key, v) in [("legal", &t.legal), ("promised", &t.promised)] {
            if let Some(v) = v
                && !(0..=3650).contains(&**v)
            {
                let message = Msg::owned(
                    format!("时限应为0到3650个工作日，而不是{}", **v),
                    format!("a time limit must be 0 to 3650 working days, not {}", **v),
                );
                self.push(
                    file,
                    format!("{path}.{key}"),
                    v.span(),
                    "out_of_range",
                    message,
                );
            }
        }
        if let (Some(legal), Some(promised)) = (&t.legal, &t.promised)
            && **promised > **legal
        {
            let message = Msg::owned(
                format!("承诺时限（{}）不能超过法定时限（{}）", **promised, **legal),
                format!(
                    "the promised time limit ({}) exceeds the legal one ({})",
                    **promised, **legal
                ),
            );
            self.push(
                file,
                format!("{path}.promised"),
                promised.span(),
                "promised_above_legal",
                message,
            );
        }
    }

    fn life_events(&mut self, file: usize, path: &str, list: &[S<String>], ix: &Indexes) {
        let mut seen = HashSet::new();
        for (i, le) in list.iter().enumerate() {
            let path = format!("{path}.life_events[{i}]");
            self.reference(file, &path, le, Section::LifeEvents, &ix.life_events);
            if !seen.insert(le.as_str()) {
                self.duplicate_entry(file, &path, le);
            }
        }
    }

    fn check_items(&mut self, p: &Parsed, ix: &Indexes) {
        let names = ElementNames {
            index: &ix.elements,
            subjects: ix
                .elements
                .first
                .keys()
                .chain(ix.elements.broken.iter())
                .filter_map(|c| c.split('.').next())
                .collect(),
        };
        for e in &p.items {
            let r = &e.raw;
            let (f, path) = (e.file, e.path.as_str());
            self.names(f, path, &r.name);
            self.texts(f, &format!("{path}.aliases"), &r.aliases);
            self.texts(f, &format!("{path}.keywords"), &r.keywords);
            self.texts(f, &format!("{path}.legal_basis"), &r.legal_basis);
            self.texts(f, &format!("{path}.process"), &r.process);
            self.reference(
                f,
                &format!("{path}.department"),
                &r.department,
                Section::Departments,
                &ix.departments,
            );
            self.life_events(f, path, &r.life_events, ix);
            if let Some(c) = &r.conditions {
                let mut seen = HashSet::new();
                for (i, rule) in c.rules.iter().enumerate() {
                    let rp = format!("{path}.conditions.rules[{i}]");
                    if !is_code(&rule.code) {
                        let message = Msg::owned(
                            format!(
                                "规则代码“{}”只能使用字母、数字、“.”、“-”和“_”",
                                rule.code.as_str()
                            ),
                            format!(
                                "rule code \"{}\" may use only letters, digits, \".\", \"-\" and \"_\"",
                                rule.code.as_str()
                            ),
                        );
                        self.push(
                            f,
                            format!("{rp}.code"),
                            rule.code.span(),
                            "bad_code",
                            message,
                        );
                    }
                    if !seen.insert(rule.code.as_str()) {
                        self.duplicate_entry(f, &format!("{rp}.code"), &rule.code);
                    }
                    self.text(f, &format!("{rp}.message"), &rule.message);
                    self.rule(f, &format!("{rp}.expr"), &rule.expr, &names);
                }
            }
            let mut seen = HashSet::new();
            for (i, el) in r.shared_data.iter().enumerate() {
                let ep = format!("{path}.shared_data[{i}]");
                self.reference(f, &ep, el, Section::Elements, &ix.elements);
                if !seen.insert(el.as_str()) {
                    self.duplicate_entry(f, &ep, el);
                }
            }
            let mut seen = HashSet::new();
            for (pi, page) in r.form.pages.iter().enumerate() {
                let pp = format!("{path}.form.pages[{pi}]");
                self.text(f, &format!("{pp}.title"), &page.title);
                if page.fields.is_empty() {
                    let message = Msg::new(
                        "表单页至少要有一个字段",
                        "a form page needs at least one field",
                    );
                    self.push(
                        f,
                        format!("{pp}.fields"),
                        page.fields.span(),
                        "empty_list",
                        message,
                    );
                }
                for (fi, field) in page.fields.iter().enumerate() {
                    let fp = format!("{pp}.fields[{fi}]");
                    let ep = format!("{fp}.element");
                    let found =
                        self.reference(f, &ep, &field.element, Section::Elements, &ix.elements);
                    if !seen.insert(field.element.as_str()) {
                        self.duplicate_entry(f, &ep, &field.element);
                    }
                    if let (Some(j), Some(ty)) = (found, &field.r#type) {
                        let element_type = *p.elements[j].raw.r#type;
                        if **ty != element_type {
                            let message = Msg::owned(
                                format!(
                                    "字段类型 {} 与数据元“{}”的类型 {} 不符；字段不能改变数据元的类型",
                                    ty.as_str(),
                                    field.element.as_str(),
                                    element_type.as_str()
                                ),
                                format!(
                                    "type {} contradicts data element \"{}\", which is {}; a field may not change its element's type",
                                    ty.as_str(),
                                    field.element.as_str(),
                                    element_type.as_str()
                                ),
                            );
                            self.push(f, format!("{fp}.type"), ty.span(), "type_mismatch", message);
                        }
                    }
                    if let Some(label) = &field.label {
                        self.text(f, &format!("{fp}.label"), label);
                    }
                    if let Some(when) = present(&field.when) {
                        self.rule(f, &format!("{fp}.when"), when, &names);
                    }
                }
            }
            let mut seen = HashSet::new();
            for (i, m) in r.materials.iter().enumerate() {
                let mp = format!("{path}.materials[{i}].material");
                self.reference(f, &mp, &m.material, Section::Materials, &ix.materials);
                if !seen.insert(m.material.as_str()) {
                    self.duplicate_entry(f, &mp, &m.material);
                }
            }
            if let Some(t) = &r.time_limit {
                self.time_limit(f, &format!("{path}.time_limit"), t);
            }
            if let Some(fee) = &r.fee {
                let cents = *fee.amount * 100.0;
                if !fee.amount.is_finite()
                    || *fee.amount < 0.0
                    || (cents - cents.round()).abs() > 1e-6
                {
                    let message = Msg::owned(
                        format!(
                            "收费金额应为不小于0、最多两位小数的元数，而不是{}",
                            *fee.amount
                        ),
                        format!(
                            "the fee must be yuan, at least 0 with at most two decimals, not {}",
                            *fee.amount
                        ),
                    );
                    self.push(
                        f,
                        format!("{path}.fee.amount"),
                        fee.amount.span(),
                        "out_of_range",
                        message,
                    );
                }
            }
            if let Some(result) = &r.result {
                self.text(f, &format!("{path}.result.name"), &result.name);
                if let Some(t) = present(&result.licence_type) {
                    self.reference(
                        f,
                        &format!("{path}.result.licence_type"),
                        t,
                        Section::LicenceTypes,
                        &ix.licence_types,
                    );
                }
            }
            if !(1..=4).contains(&*r.online_depth) {
                let message = Msg::owned(
                    format!("网办深度应为1到4，而不是{}", *r.online_depth),
                    format!("online_depth must be 1 to 4, not {}", *r.online_depth),
                );
                self.push(
                    f,
                    format!("{path}.online_depth"),
                    r.online_depth.span(),
                    "out_of_range",
                    message,
                );
            }
            if !(0..=1).contains(&*r.visits) {
                let message = Msg::owned(
                    format!("到现场次数应为0或1，而不是{}", *r.visits),
                    format!("visits must be 0 or 1, not {}", *r.visits),
                );
                self.push(
                    f,
                    format!("{path}.visits"),
                    r.visits.span(),
                    "out_of_range",
                    message,
                );
            }
            if let Some(w) = &r.window {
                self.text(f, &format!("{path}.window"), w);
            }
        }
    }

    fn check_bundles(&mut self, p: &Parsed, ix: &Indexes) {
        for e in &p.bundles {
            let r = &e.raw;
            let (f, path) = (e.file, e.path.as_str());
            self.names(f, path, &r.name);
            self.texts(f, &format!("{path}.aliases"), &r.aliases);
            self.texts(f, &format!("{path}.keywords"), &r.keywords);
            if let Some(d) = &r.description {
                self.text(f, &format!("{path}.description"), d);
            }
            self.life_events(f, path, &r.life_events, ix);
            if r.items.is_empty() && r.includes.is_empty() {
                let message = Msg::new(
                    "一件事至少要有一个事项（items 或 includes）",
                    "a bundle needs at least one item (in items or through includes)",
                );
                self.push(
                    f,
                    format!("{path}.items"),
                    r.items.span(),
                    "empty_bundle",
                    message,
                );
            }
            let mut seen = HashSet::new();
            for (i, it) in r.items.iter().enumerate() {
                let ip = format!("{path}.items[{i}].item");
                self.reference(f, &ip, &it.item, Section::Items, &ix.items);
                if !seen.insert(it.item.as_str()) {
                    self.duplicate_entry(f, &ip, &it.item);
                }
            }
            let mut seen = HashSet::new();
            for (i, inc) in r.includes.iter().enumerate() {
                let ip = format!("{path}.includes[{i}]");
                self.reference(f, &ip, inc, Section::Bundles, &ix.bundles);
                if !seen.insert(inc.as_str()) {
                    self.duplicate_entry(f, &ip, inc);
                }
            }
            if let Some(t) = &r.time_limit {
                self.time_limit(f, &format!("{path}.time_limit"), t);
            }
        }
        self.include_cycles(p, ix);
    }

    /// Finds bundles that include themselves through others: a depth-first search over the
    /// include graph (iterative, so a long chain cannot exhaust the stack), reporting each
    /// back edge with the loop it closes.
    fn include_cycles(&mut self, p: &Parsed, ix: &Indexes) {
        let n = p.bundles.len();
        let edges: Vec<Vec<(usize, usize)>> = p
            .bundles
            .iter()
            .map(|b| {
                b.raw
                    .includes
                    .iter()
                    .enumerate()
                    .filter_map(|(k, c)| ix.bundles.get(c).map(|t| (t, k)))
                    .collect()
            })
            .collect();
        // 0 = not visited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; n];
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            state[root] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if *next < edges[node].len() {
                    let (target, k) = edges[node][*next];
                    *next += 1;
                    match state[target] {
                        0 => {
                            state[target] = 1;
                            stack.push((target, 0));
                        }
                        1 => {
                            let from = stack.iter().position(|(b, _)| *b == target).unwrap_or(0);
                            let mut names: Vec<&str> = stack[from..]
                                .iter()
                                .map(|(b, _)| p.bundles[*b].raw.code.as_str())
                                .collect();
                            names.push(p.bundles[target].raw.code.as_str());
                            let cycle = names.join(" → ");
                            let e = &p.bundles[node];
                            let inc = &e.raw.includes[k];
                            let message = Msg::owned(
                                format!("一件事通过 includes 包含了自身：{cycle}"),
                                format!("the bundle includes itself: {cycle}"),
                            );
                            self.push(
                                e.file,
                                format!("{}.includes[{k}]", e.path),
                                inc.span(),
                                "include_cycle",
                                message,
                            );
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
    }
}

fn at_zh(at: Option<u32>) -> String {
    at.map(|a| format!("（第{a}个字符处）")).unwrap_or_default()
}

fn at_en(at: Option<u32>) -> String {
    at.map(|a| format!(" (at character {a})"))
        .unwrap_or_default()
}

/// Why a `pattern` is refused: it must compile both here and in the JSON Schema validator.
fn pattern_problem(pattern: &str) -> Option<String> {
    if let Err(e) = regex::Regex::new(pattern) {
        return Some(
            e.to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string(),
        );
    }
    let schema = serde_json::json!({"type": "string", "pattern": pattern});
    jsonschema::validator_for(&schema)
        .err()
        .map(|e| e.to_string())
}
