//! Checking rules (CEL expressions) at load: they must parse, stay small, use only the
//! functions the catalog allows, and name only defined data elements.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cel::common::ast::{Expr, IdedExpr, SourceInfo};
use cel::parser::Parser;

/// The longest rule accepted, in characters.
pub const MAX_RULE_CHARS: usize = 2000;

/// Deeper nesting than this is refused before the parser sees it: the ANTLR parser recurses
/// once per level, and a stack overflow cannot be caught.
const MAX_NESTING: usize = 32;

/// Functions a rule may call: the operators of the language and a few pure functions.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "size",
    "has",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "string",
    "double",
    "timestamp",
    "duration",
    "_&&_",
    "_||_",
    "!_",
    "-_",
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "_+_",
    "_-_",
    "_*_",
    "_/_",
    "_%_",
    "@in",
    "_?_:_",
];

/// What is wrong with a rule. Offsets are character positions in the rule, from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleProblem {
    TooLong {
        chars: usize,
    },
    TooDeep,
    Syntax {
        line: isize,
        column: isize,
        message: String,
    },
    NotAllowed {
        what: String,
        at: Option<u32>,
    },
    UnknownElement {
        name: String,
        at: Option<u32>,
    },
    SubjectOnly {
        subject: String,
        at: Option<u32>,
    },
}

/// What a rule may name: the defined data elements and their subjects.
pub trait Names {
    fn is_element(&self, code: &str) -> bool;
    fn is_subject(&self, name: &str) -> bool;
}

/// Checks one rule; an empty result means it is good.
pub fn check_rule(source: &str, names: &dyn Names) -> Vec<RuleProblem> {
    let chars = source.chars().count();
    if chars > MAX_RULE_CHARS {
        return vec![RuleProblem::TooLong { chars }];
    }
    if nesting(source) > MAX_NESTING {
        return vec![RuleProblem::TooDeep];
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Parser::new()
            .max_recursion_depth(MAX_NESTING as u16 * 2)
            .parse_with_source_info(source)
    }));
    let (expr, info) = match parsed {
        Ok(Ok(v)) => v,
        Ok(Err(errors)) => {
            return errors
                .errors
                .into_iter()
                .take(1)
                .map(|e| RuleProblem::Syntax {
                    line: e.pos.0,
                    column: e.pos.1,
                    message: e.msg,
                })
                .collect();
        }
        Err(_) => {
            return vec![RuleProblem::Syntax {
                line: 0,
                column: 0,
                message: "the expression could not be parsed".into(),
            }];
        }
    };
    let mut walk = Walk {
        names,
        info: &info,
        problems: Vec::new(),
        seen: HashSet::new(),
    };
    walk.expr(&expr);
    walk.problems
}

/// The deepest nesting of brackets outside string literals (a cheap upper bound is enough).
fn nesting(source: &str) -> usize {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

struct Walk<'a> {
    names: &'a dyn Names,
    info: &'a SourceInfo,
    problems: Vec<RuleProblem>,
    /// Names already reported, so `a.b > 1 && a.b < 5` reports `a.b` once.
    seen: HashSet<String>,
}

/// The dotted name an expression spells (`person.age`), if it is an identifier with field
/// selections on it.
fn dotted(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Select(s) if !s.test => dotted(&s.operand).map(|p| format!("{p}.{}", s.field)),
        _ => None,
    }
}

/// The identifier a chain of field selections starts from: where a dotted name begins.
fn root(e: &IdedExpr) -> &IdedExpr {
    match &e.expr {
        Expr::Select(s) => root(&s.operand),
        _ => e,
    }
}

impl Walk<'_> {
    fn at(&self, e: &IdedExpr) -> Option<u32> {
        self.info.offset_for(root(e).id).map(|(start, _)| start + 1)
    }

    fn name(&mut self, e: &IdedExpr, name: String) {
        if self.names.is_element(&name) || !self.seen.insert(name.clone()) {
            return;
        }
        let at = self.at(e);
        if !name.contains('.') && self.names.is_subject(&name) {
            self.problems
                .push(RuleProblem::SubjectOnly { subject: name, at });
        } else {
            self.problems.push(RuleProblem::UnknownElement { name, at });
        }
    }

    fn not_allowed(&mut self, e: &IdedExpr, what: impl Into<String>) {
        let at = self.at(e);
        self.problems.push(RuleProblem::NotAllowed {
            what: what.into(),
            at,
        });
    }

    fn expr(&mut self, e: &IdedExpr) {
        match &e.expr {
            Expr::Ident(_) | Expr::Select(_) if dotted(e).is_some() => {
                let name = dotted(e).unwrap_or_default();
                self.name(e, name);
            }
            // `has(person.x)` is a presence test on the field `x` of `person`.
            Expr::Select(s) if s.test => match dotted(&s.operand) {
                Some(p) => self.name(e, format!("{p}.{}", s.field)),
                None => self.not_allowed(e, "has() on something other than a data element"),
            },
            Expr::Select(s) => {
                self.expr(&s.operand);
                self.not_allowed(e, format!("selecting field \"{}\" of a value", s.field));
            }
            Expr::Call(c) => {
                if !ALLOWED_FUNCTIONS.contains(&c.func_name.as_str()) {
                    let what = match c.func_name.as_str() {
                        "_[_]" | "_[?_]" => "indexing".to_string(),
                        f => format!("function \"{f}\""),
                    };
                    self.not_allowed(e, what);
                }
                if let Some(t) = &c.target {
                    self.expr(t);
                }
                for a in &c.args {
                    self.expr(a);
                }
            }
            Expr::List(l) => {
                for x in &l.elements {
                    self.expr(x);
                }
            }
            Expr::Literal(_) | Expr::Unspecified => {}
            Expr::Map(_) => self.not_allowed(e, "map literals"),
            Expr::Struct(_) => self.not_allowed(e, "message literals"),
            Expr::Comprehension(_) => {
                self.not_allowed(e, "macros such as all(), exists(), map() and filter()")
            }
            Expr::Ident(_) => {}
        }
    }
}

/// The data elements a rule names (`person.age` of `person.age >= 18`), each once, in order
/// of first use. Empty for a rule that does not parse.
pub fn referenced_elements(source: &str) -> Vec<String> {
    if source.chars().count() > MAX_RULE_CHARS || nesting(source) > MAX_NESTING {
        return Vec::new();
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Parser::new()
            .max_recursion_depth(MAX_NESTING as u16 * 2)
            .parse(source)
    }));
    let Ok(Ok(expr)) = parsed else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_names(&expr, &mut out);
    out
}

fn collect_names(e: &IdedExpr, out: &mut Vec<String>) {
    let mut push = |name: String| {
        if name.contains('.') && !out.contains(&name) {
            out.push(name);
        }
    };
    match &e.expr {
        Expr::Ident(_) | Expr::Select(_) if dotted(e).is_some() => {
            push(dotted(e).unwrap_or_default())
        }
        Expr::Select(s) if s.test => {
            if let Some(p) = dotted(&s.operand) {
                push(format!("{p}.{}", s.field));
            }
        }
        Expr::Select(s) => collect_names(&s.operand, out),
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                collect_names(t, out);
            }
            for a in &c.args {
                collect_names(a, out);
            }
        }
        Expr::List(l) => {
            for x in &l.elements {
                collect_names(x, out);
            }
        }
        _ => {}
    }
}

/// A rule compiled for evaluation. Only rules that passed [`check_rule`] should be compiled:
/// the checks bound their size and nesting, which keeps evaluation's recursion shallow.
pub struct CompiledRule {
    program: cel::Program,
    subjects: Vec<String>,
}

/// Why a rule gave no yes-or-no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// It names an element that has no value.
    Missing(String),
    /// It failed in some other way (a type mismatch, say) or gave something not a boolean.
    Failed(String),
}

impl CompiledRule {
    pub fn compile(source: &str) -> Option<CompiledRule> {
        let program = catch_unwind(AssertUnwindSafe(|| cel::Program::compile(source)))
            .ok()?
            .ok()?;
        let mut subjects: Vec<String> = Vec::new();
        for name in referenced_elements(source) {
            let subject = name.split('.').next().unwrap_or_default().to_string();
            if !subjects.contains(&subject) {
                subjects.push(subject);
            }
        }
        Some(CompiledRule { program, subjects })
    }

    /// Evaluates the rule over values of data elements keyed by element code
    /// (`{"person.age": 30}`). Every subject the rule names is defined, so `has(person.x)`
    /// is false rather than an error when nothing is known about the person.
    pub fn evaluate(
        &self,
        values: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, EvalError> {
        let mut tree = serde_json::Map::new();
        for s in &self.subjects {
            tree.insert(s.clone(), serde_json::Value::Object(Default::default()));
        }
        for (code, value) in values {
            insert_path(&mut tree, code, value.clone());
        }
        let mut ctx = cel::Context::default();
        for (name, value) in tree {
            ctx.add_variable_from_value(name, to_cel(&value));
        }
        let out = catch_unwind(AssertUnwindSafe(|| self.program.execute(&ctx)))
            .map_err(|_| EvalError::Failed("evaluation failed".into()))?;
        match out {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(EvalError::Failed(format!(
                "the rule gave {other:?}, not true or false"
            ))),
            Err(cel::ExecutionError::NoSuchKey(k)) => Err(EvalError::Missing(k.to_string())),
            Err(e) => Err(EvalError::Failed(e.to_string())),
        }
    }
}

/// JSON as CEL values. Whole numbers become `int` (serde would make positive ones `uint`,
/// which CEL does not compare with the `int` literals rules are written with).
fn to_cel(v: &serde_json::Value) -> cel::Value {
    use serde_json::Value as J;
    match v {
        J::Null => cel::Value::Null,
        J::Bool(b) => cel::Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => cel::Value::Int(i),
            None => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => cel::Value::String(std::sync::Arc::new(s.clone())),
        J::Array(a) => cel::Value::List(std::sync::Arc::new(a.iter().map(to_cel).collect())),
        J::Object(m) => {
            let map: std::collections::HashMap<String, cel::Value> =
                m.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            cel::Value::from(map)
        }
    }
}

/// Puts `value` at the dotted `path` of a tree of objects.
fn insert_path(
    tree: &mut serde_json::Map<String, serde_json::Value>,
    path: &str,
    value: serde_json::Value,
) {
    match path.split_once('.') {
        None => {
            tree.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = tree
                .entry(head.to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !child.is_object() {
                *child = serde_json::Value::Object(Default::default());
            }
            if let serde_json::Value::Object(m) = child {
                insert_path(m, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Demo;
    impl Names for Demo {
        fn is_element(&self, code: &str) -> bool {
            matches!(code, "person.age" | "person.name" | "person.gender")
        }
        fn is_subject(&self, name: &str) -> bool {
            name == "person"
        }
    }

    #[test]
    fn good_rules_pass() {
        for r in [
            "person.age >= 18",
            r#"person.gender != "male" || person.age >= 22"#,
            r#"person.name.startsWith("张") && size(person.name) <= 4"#,
            r#"person.gender in ["male", "female"]"#,
            "has(person.age) ? person.age > 3 : false",
            "!(person.age < 18)",
            "int(person.age) % 2 == 0",
        ] {
            assert_eq!(check_rule(r, &Demo), vec![], "{r}");
        }
    }

    #[test]
    fn unknown_names_are_found() {
        let p = check_rule("person.agee > 1 && persn.age < 2 && person > 0", &Demo);
        assert!(
            matches!(&p[0], RuleProblem::UnknownElement { name, at: Some(1) } if name == "person.agee")
        );
        assert!(
            matches!(&p[1], RuleProblem::UnknownElement { name, at: Some(20) } if name == "persn.age")
        );
        assert!(matches!(&p[2], RuleProblem::SubjectOnly { subject, .. } if subject == "person"));
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn disallowed_constructs_are_found() {
        for r in [
            "[1, 2].all(x, x > 0)",
            "{'a': 1}['a'] == 1",
            "person.age.foo > 1 || foo(1)",
            "[1][0] == 1",
        ] {
            let p = check_rule(r, &Demo);
            assert!(
                p.iter().any(|p| matches!(
                    p,
                    RuleProblem::NotAllowed { .. } | RuleProblem::UnknownElement { .. }
                )),
                "{r}: {p:?}"
            );
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let long = "person.age > 1 && ".repeat(200) + "true";
        assert!(matches!(
            check_rule(&long, &Demo)[0],
            RuleProblem::TooLong { .. }
        ));
        let deep = "(".repeat(900) + "1" + &")".repeat(900);
        assert_eq!(check_rule(&deep, &Demo), vec![RuleProblem::TooDeep]);
        let just_deep_enough = "(".repeat(32) + "person.age" + &")".repeat(32) + " > 1";
        assert_eq!(check_rule(&just_deep_enough, &Demo), vec![]);
        // Long flat chains are not nesting, but the parse tree of a left-recursive rule is
        // as deep as the chain: none of these may overflow the stack.
        let chains = [
            "person.".repeat(280) + "age",
            "a.".repeat(999) + "a",
            "1+".repeat(999) + "1",
            "1 + ".repeat(490) + "1",
            "person.age > 1 && ".repeat(110) + "true",
            "!".repeat(1990) + "true",
            "-".repeat(1990) + "1",
            "person.name.size()".to_string() + &".size()".repeat(280),
            "x[0]".to_string() + &"[0]".repeat(600),
            "f(".repeat(30) + &")".repeat(30) + &".f()".repeat(490),
        ];
        for chain in &chains {
            let _ = check_rule(chain, &Demo);
        }
        for garbage in [
            "",
            ")",
            "((((",
            "\"unterminated",
            "person.age >",
            "\u{0}\u{1}\u{fffd}",
            "`x`",
            "1 ? : 2",
            "a.b.c.d.e.f.g.h(",
            "🙂 && 🙂",
            "'''",
            "\\",
        ] {
            let p = check_rule(garbage, &Demo);
            assert!(!p.is_empty(), "{garbage:?} should be refused");
        }
    }

    #[test]
    fn names_of_a_rule() {
        assert_eq!(
            referenced_elements(r#"person.kinship != "01" && (has(child.name) || person.age > 3)"#),
            vec!["person.kinship", "child.name", "person.age"]
        );
        assert!(referenced_elements("((").is_empty());
    }

    #[test]
    fn rules_evaluate_over_element_values() {
        let values = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let r = CompiledRule::compile(r#"person.kinship != "01""#).unwrap();
        assert_eq!(
            r.evaluate(&values(serde_json::json!({"person.kinship": "02"}))),
            Ok(true)
        );
        assert_eq!(
            r.evaluate(&values(serde_json::json!({"person.kinship": "01"}))),
            Ok(false)
        );
        assert!(matches!(
            r.evaluate(&values(serde_json::json!({}))),
            Err(EvalError::Missing(_))
        ));
        let has = CompiledRule::compile("!has(spouse.name)").unwrap();
        assert_eq!(has.evaluate(&values(serde_json::json!({}))), Ok(true));
        assert_eq!(
            has.evaluate(&values(serde_json::json!({"spouse.name": "李四"}))),
            Ok(false)
        );
        let age = CompiledRule::compile("person.age >= 18 && person.income < 3000.5").unwrap();
        assert_eq!(
            age.evaluate(&values(
                serde_json::json!({"person.age": 30, "person.income": 1200.0})
            )),
            Ok(true)
        );
        let not_bool = CompiledRule::compile("person.age + 1").unwrap();
        assert!(matches!(
            not_bool.evaluate(&values(serde_json::json!({"person.age": 1}))),
            Err(EvalError::Failed(_))
        ));
    }
}
