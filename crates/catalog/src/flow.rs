//! A form as a sequence of screens, the GOV.UK way: one question group per screen, follow-up
//! questions on a screen of their own, and a check of the whole at the end.
//!
//! A [`Flow`] is built from an item's form or a bundle's merged form. Each form page becomes
//! one screen; a field whose `when` rule names another field of the same page is asked on a
//! follow-up screen after it, so a page works without script and asks only what applies.
//! Answers are values of data elements keyed by element code (`{"person.name": "张三"}`), the
//! shape the form's JSON Schema validates. The flow is pure: storing answers is for the
//! caller.

use kernel::{FieldError, Msg};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::{DataLevel, ElementType, FormPage};
use crate::rules::{CompiledRule, referenced_elements};
use crate::{Catalog, MergeError, validate_submission};

/// Values of data elements keyed by element code.
pub type Answers = Map<String, Value>;

/// Code lists up to this long are shown as radio buttons; longer ones as a select.
const MAX_RADIOS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Text,
    Textarea,
    Number,
    Date,
    Month,
    Radios,
    Select,
    YesNo,
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
}

/// One question of a screen.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub element: String,
    pub label: String,
    pub label_en: Option<String>,
    pub required: bool,
    #[serde(rename = "type")]
    pub r#type: ElementType,
    pub level: DataLevel,
    pub input: Input,
    pub choices: Vec<Choice>,
    pub hint: Option<String>,
    pub hint_en: Option<String>,
    pub inputmode: Option<&'static str>,
    pub autocomplete: Option<&'static str>,
    pub max_length: Option<u64>,
    /// Whether a `when` rule decides if it is asked.
    pub conditional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Screen {
    /// The form page it belongs to (from 0).
    pub page: usize,
    /// 0 for the page's own questions, then 1, 2, … for follow-ups.
    pub step: usize,
    pub title: String,
    pub title_en: Option<String>,
    pub questions: Vec<Question>,
}

/// A question and its answer, for the check-your-answers page.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerRow {
    pub element: String,
    pub label: String,
    pub label_en: Option<String>,
    /// The answer as shown: code names, 是/否, masked ID and phone numbers.
    pub shown: String,
    pub shown_en: String,
    pub answered: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScreenSummary {
    pub screen: usize,
    pub title: String,
    pub title_en: Option<String>,
    pub rows: Vec<AnswerRow>,
}

/// A screen's answers that could not be taken, with what was typed so it can be shown again.
#[derive(Debug, Clone)]
pub struct Refused {
    pub errors: Vec<FieldError>,
    pub typed: Map<String, Value>,
}

pub struct Flow {
    pub title: String,
    pub title_en: Option<String>,
    screens: Vec<Screen>,
    /// Per screen, per question: the compiled `when` rule.
    rules: Vec<Vec<Option<CompiledRule>>>,
    schema: Value,
}

impl Catalog {
    /// The flow of an item's form; `None` for an unknown item.
    pub fn item_flow(&self, code: &str) -> Option<Flow> {
        let item = self.item(code)?;
        let schema = self.item_schema(code)?;
        Some(Flow::new(
            self,
            &item.name,
            item.name_en.clone(),
            &item.form.pages,
            schema,
        ))
    }

    /// The flow of a bundle's merged form with the chosen optional items.
    pub fn bundle_flow(&self, code: &str, optional: &[String]) -> Result<Flow, MergeError> {
        let merged = self.merge(code, optional)?;
        let bundle = self
            .bundle(code)
            .ok_or_else(|| MergeError::UnknownBundle(code.to_string()))?;
        Ok(Flow::new(
            self,
            &bundle.name,
            bundle.name_en.clone(),
            &merged.pages,
            merged.schema,
        ))
    }
}

impl Flow {
    fn new(
        c: &Catalog,
        title: &str,
        title_en: Option<String>,
        pages: &[FormPage],
        schema: Value,
    ) -> Flow {
        let mut screens: Vec<Screen> = Vec::new();
        let mut rules = Vec::new();
        for (pi, page) in pages.iter().enumerate() {
            // A field's step: one more than the deepest earlier field of the page it depends
            // on, so follow-ups come after what they follow.
            let mut steps: Vec<usize> = Vec::with_capacity(page.fields.len());
            for (fi, f) in page.fields.iter().enumerate() {
                let names = f
                    .when
                    .as_deref()
                    .map(referenced_elements)
                    .unwrap_or_default();
                let step = page.fields[..fi]
                    .iter()
                    .enumerate()
                    .filter(|(_, earlier)| names.contains(&earlier.element))
                    .map(|(ei, _)| steps[ei] + 1)
                    .max()
                    .unwrap_or(0);
                steps.push(step);
            }
            let deepest = steps.iter().copied().max().unwrap_or(0);
            for step in 0..=deepest {
                let mut questions = Vec::new();
                let mut compiled = Vec::new();
                for (f, _) in page.fields.iter().zip(&steps).filter(|(_, s)| **s == step) {
                    let Some(el) = c.element(&f.element) else {
                        continue;
                    };
                    let choices: Vec<Choice> = el
                        .code_list
                        .as_deref()
                        .and_then(|l| c.code_list(l))
                        .map(|l| {
                            l.values
                                .iter()
                                .map(|v| Choice {
                                    code: v.code.clone(),
                                    name: v.name.clone(),
                                    name_en: v.name_en.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let (input, hint, hint_en, inputmode, autocomplete) =
                        presentation(el.r#type, &f.element, choices.len());
                    questions.push(Question {
                        element: f.element.clone(),
                        label: f.label.clone(),
                        label_en: f.label_en.clone(),
                        required: f.required,
                        r#type: el.r#type,
                        level: el.level,
                        input,
                        choices,
                        hint: el.hint.clone().or(hint.map(str::to_string)),
                        hint_en: el.hint_en.clone().or(hint_en.map(str::to_string)),
                        inputmode,
                        autocomplete,
                        max_length: el.max_length,
                        conditional: f.when.is_some(),
                    });
                    compiled.push(f.when.as_deref().and_then(CompiledRule::compile));
                }
                if questions.is_empty() {
                    continue;
                }
                screens.push(Screen {
                    page: pi,
                    step,
                    title: page.title.clone(),
                    title_en: page.title_en.clone(),
                    questions,
                });
                rules.push(compiled);
            }
        }
        Flow {
            title: title.to_string(),
            title_en,
            screens,
            rules,
            schema,
        }
    }

    pub fn screens(&self) -> &[Screen] {
        &self.screens
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Whether a question is asked, given the answers so far. A rule that cannot be decided
    /// (it names a question not yet answered) does not ask.
    fn asked(&self, screen: usize, question: usize, answers: &Answers) -> bool {
        match &self.rules[screen][question] {
            None => !self.screens[screen].questions[question].conditional,
            Some(rule) => rule.evaluate(answers).unwrap_or(false),
        }
    }

    /// The questions of a screen that are asked, given the answers.
    pub fn asked_questions(&self, screen: usize, answers: &Answers) -> Vec<&Question> {
        let Some(s) = self.screens.get(screen) else {
            return Vec::new();
        };
        s.questions
            .iter()
            .enumerate()
            .filter(|(qi, _)| self.asked(screen, *qi, answers))
            .map(|(_, q)| q)
            .collect()
    }

    pub fn is_shown(&self, screen: usize, answers: &Answers) -> bool {
        !self.asked_questions(screen, answers).is_empty()
    }

    pub fn first(&self, answers: &Answers) -> Option<usize> {
        (0..self.screens.len()).find(|&i| self.is_shown(i, answers))
    }

    pub fn next(&self, screen: usize, answers: &Answers) -> Option<usize> {
        (screen + 1..self.screens.len()).find(|&i| self.is_shown(i, answers))
    }

    pub fn previous(&self, screen: usize, answers: &Answers) -> Option<usize> {
        (0..screen.min(self.screens.len()))
            .rev()
            .find(|&i| self.is_shown(i, answers))
    }

    /// The answers without those to questions no longer asked (a follow-up whose condition
    /// an answer has since undone), and without elements the form no longer has.
    pub fn prune(&self, answers: &Answers) -> Answers {
        let mut out = answers.clone();
        for (si, s) in self.screens.iter().enumerate() {
            for (qi, q) in s.questions.iter().enumerate() {
                if !self.asked(si, qi, &out) {
                    out.remove(&q.element);
                }
            }
        }
        let known = |k: &String| {
            self.screens
                .iter()
                .any(|s| s.questions.iter().any(|q| &q.element == k))
        };
        out.retain(|k, _| known(k));
        out
    }

    /// Takes a screen's posted values (`locked` elements keep their answer whatever is
    /// posted). Returns all answers with this screen's applied and checked, or what is wrong
    /// with it; nothing of a refused screen is taken.
    pub fn answer(
        &self,
        screen: usize,
        posted: &[(String, String)],
        answers: &Answers,
        locked: &[String],
    ) -> Result<Answers, Refused> {
        let Some(s) = self.screens.get(screen) else {
            return Err(Refused {
                errors: Vec::new(),
                typed: Map::new(),
            });
        };
        let mut candidate = answers.clone();
        let mut typed = Map::new();
        let mut errors = Vec::new();
        for q in &s.questions {
            if locked.contains(&q.element) {
                continue;
            }
            let raw = posted
                .iter()
                .find(|(k, _)| k == &q.element)
                .map(|(_, v)| v.trim())
                .unwrap_or_default();
            typed.insert(q.element.clone(), json!(raw));
            candidate.remove(&q.element);
            if raw.is_empty() {
                continue;
            }
            match parse(q, raw) {
                Ok(v) => {
                    candidate.insert(q.element.clone(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        // Answers to questions this screen no longer asks are dropped, then what is asked
        // must be answered.
        for (qi, q) in s.questions.iter().enumerate() {
            if !self.asked(screen, qi, &candidate) {
                candidate.remove(&q.element);
            } else if q.required
                && !candidate.contains_key(&q.element)
                && !errors.iter().any(|e: &FieldError| e.field == q.element)
            {
                errors.push(required(q));
            }
        }
        let candidate = self.prune(&candidate);
        if let Err(found) = validate_submission(&self.schema, &Value::Object(candidate.clone())) {
            for e in found {
                let here = s.questions.iter().any(|q| q.element == e.field);
                if here && !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
        }
        if errors.is_empty() {
            Ok(candidate)
        } else {
            // In the screen's order, so the summary reads top to bottom.
            errors.sort_by_key(|e| s.questions.iter().position(|q| q.element == e.field));
            Err(Refused { errors, typed })
        }
    }

    /// Every problem with the answers as a whole, each with the screen to fix it on.
    pub fn check(&self, answers: &Answers) -> Vec<(usize, FieldError)> {
        let answers = self.prune(answers);
        let mut out: Vec<(usize, FieldError)> = Vec::new();
        for (si, s) in self.screens.iter().enumerate() {
            for (qi, q) in s.questions.iter().enumerate() {
                if q.required && self.asked(si, qi, &answers) && !answers.contains_key(&q.element) {
                    out.push((si, required(q)));
                }
            }
        }
        if let Err(found) = validate_submission(&self.schema, &Value::Object(answers)) {
            for e in found {
                if out.iter().any(|(_, x)| x.field == e.field) {
                    continue;
                }
                let screen = self
                    .screens
                    .iter()
                    .position(|s| s.questions.iter().any(|q| q.element == e.field))
                    .unwrap_or(0);
                out.push((screen, e));
            }
        }
        out.sort_by_key(|(s, _)| *s);
        out
    }

    /// The asked questions and their answers, screen by screen.
    pub fn summary(&self, answers: &Answers) -> Vec<ScreenSummary> {
        let answers = self.prune(answers);
        (0..self.screens.len())
            .filter_map(|si| {
                let rows: Vec<AnswerRow> = self
                    .asked_questions(si, &answers)
                    .into_iter()
                    .map(|q| {
                        let v = answers.get(&q.element);
                        let (shown, shown_en) = v.map(|v| show(q, v)).unwrap_or_default();
                        AnswerRow {
                            element: q.element.clone(),
                            label: q.label.clone(),
                            label_en: q.label_en.clone(),
                            shown,
                            shown_en,
                            answered: v.is_some(),
                        }
                    })
                    .collect();
                let s = &self.screens[si];
                (!rows.is_empty()).then(|| ScreenSummary {
                    screen: si,
                    title: s.title.clone(),
                    title_en: s.title_en.clone(),
                    rows,
                })
            })
            .collect()
    }
}

/// How a question of a type is asked: input, hint, inputmode and autocomplete.
#[allow(clippy::type_complexity)]
fn presentation(
    t: ElementType,
    element: &str,
    choices: usize,
) -> (
    Input,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
) {
    let autocomplete = match element {
        "person.name" => Some("name"),
        "person.phone" => Some("tel"),
        _ => None,
    };
    match t {
        ElementType::String => (Input::Text, None, None, None, autocomplete),
        ElementType::Address => (Input::Text, None, None, None, None),
        ElementType::Text => (Input::Textarea, None, None, None, None),
        ElementType::Integer => (Input::Number, None, None, Some("numeric"), None),
        ElementType::Number => (Input::Number, None, None, Some("decimal"), None),
        ElementType::Money => (
            Input::Number,
            Some("单位：元，最多两位小数"),
            Some("In yuan, up to two decimals"),
            Some("decimal"),
            None,
        ),
        ElementType::Boolean => (Input::YesNo, None, None, None, None),
        ElementType::Date => (
            Input::Date,
            Some("例如 2026-01-31"),
            Some("For example, 2026-01-31"),
            None,
            None,
        ),
        ElementType::Month => (
            Input::Month,
            Some("例如 2026-01"),
            Some("For example, 2026-01"),
            None,
            None,
        ),
        ElementType::Code if choices <= MAX_RADIOS => (Input::Radios, None, None, None, None),
        ElementType::Code => (Input::Select, None, None, None, None),
        ElementType::IdNumber => (
            Input::Text,
            Some("18位，最后一位可能是 X"),
            Some("18 characters; the last may be X"),
            None,
            None,
        ),
        ElementType::CreditCode => (
            Input::Text,
            Some("18位，见营业执照"),
            Some("18 characters, on the business licence"),
            None,
            None,
        ),
        ElementType::Phone => (
            Input::Text,
            Some("11位手机号码"),
            Some("11-digit mobile number"),
            Some("tel"),
            autocomplete,
        ),
    }
}

fn label_en(q: &Question) -> &str {
    q.label_en.as_deref().unwrap_or(&q.label)
}

fn required(q: &Question) -> FieldError {
    let (zh, en) = match q.input {
        Input::Radios | Input::Select | Input::YesNo => ("请选择", "Select"),
        _ => ("请填写", "Enter"),
    };
    FieldError::new(
        &q.element,
        "required",
        Msg::owned(
            format!("{zh}{}", q.label),
            format!("{en} {}", label_en(q).to_lowercase()),
        ),
    )
}

/// A typed value from what was typed; schema checks (ranges, patterns) come after.
fn parse(q: &Question, raw: &str) -> Result<Value, FieldError> {
    let not_a_number = || {
        FieldError::new(
            &q.element,
            "type",
            Msg::owned(
                format!("{}应为数字", q.label),
                format!("{} must be a number", label_en(q)),
            ),
        )
    };
    match q.r#type {
        ElementType::Integer => {
            let cleaned: String = raw.chars().filter(|c| *c != ',' && *c != '，').collect();
            cleaned
                .parse::<i64>()
                .map(|n| json!(n))
                .map_err(|_| not_a_number())
        }
        ElementType::Number | ElementType::Money => {
            let cleaned: String = raw
                .chars()
                .filter(|c| !matches!(c, ',' | '，' | '¥' | '￥' | '元'))
                .collect();
            let n: f64 = cleaned.trim().parse().map_err(|_| not_a_number())?;
            if !n.is_finite() {
                return Err(not_a_number());
            }
            Ok(if n.fract() == 0.0 && n.abs() < 9e15 {
                json!(n as i64)
            } else {
                json!(n)
            })
        }
        ElementType::Boolean => match raw {
            "true" | "yes" | "是" => Ok(json!(true)),
            "false" | "no" | "否" => Ok(json!(false)),
            _ => Err(required(q)),
        },
        // Letters of identifiers are upper case however they were typed.
        ElementType::IdNumber | ElementType::CreditCode => Ok(json!(raw.to_uppercase())),
        _ => Ok(json!(raw)),
    }
}

/// An answer as the applicant reads it back (Chinese, English).
pub fn show(q: &Question, v: &Value) -> (String, String) {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match q.r#type {
        ElementType::Boolean => match v.as_bool() {
            Some(true) => ("是".into(), "Yes".into()),
            Some(false) => ("否".into(), "No".into()),
            None => (s.clone(), s),
        },
        ElementType::Code => match q.choices.iter().find(|c| c.code == s) {
            Some(c) => (
                c.name.clone(),
                c.name_en.clone().unwrap_or_else(|| c.name.clone()),
            ),
            None => (s.clone(), s),
        },
        ElementType::IdNumber => {
            let m = kernel::ids::mask_id_number(&s);
            (m.clone(), m)
        }
        ElementType::Phone => {
            let m = kernel::ids::mask_phone(&s);
            (m.clone(), m)
        }
        ElementType::Money => {
            let n = v.as_f64().unwrap_or_default();
            (format!("{n:.2} 元"), format!("CNY {n:.2}"))
        }
        _ => (s.clone(), s),
    }
}
