//! Forms as JSON Schema (draft 2020-12), and the server-side validation of submissions.
//!
//! Each property carries `title` (Chinese label), `x-title-en` and `x-type` (the element
//! type), so `validate_submission` can word its messages and run the checks JSON Schema cannot
//! express (ID number and credit code check characters, real calendar dates).

use chrono::NaiveDate;
use kernel::ids::{credit_code_error_message, id_number_error_message, phone_error_message};
use kernel::{CreditCode, FieldError, IdNumber, Msg, Phone};
use serde_json::{Map, Value, json};

use crate::model::{CodeList, Element, ElementType, FormField};

pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

const ID_NUMBER_PATTERN: &str = "^[0-9]{17}[0-9X]$";
const CREDIT_CODE_PATTERN: &str = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$";
const PHONE_PATTERN: &str = "^1[3-9][0-9]{9}$";
const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
const MONTH_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

/// The schema of one field's value.
pub(crate) fn property(
    field: &FormField,
    element: &Element,
    code_list: Option<&CodeList>,
    always_required: bool,
) -> Value {
    let mut p = Map::new();
    p.insert("title".into(), json!(field.label));
    if let Some(en) = &field.label_en {
        p.insert("x-title-en".into(), json!(en));
    }
    p.insert("x-type".into(), json!(element.r#type.as_str()));
    let string = |p: &mut Map<String, Value>| {
        p.insert("type".into(), json!("string"));
    };
    match element.r#type {
        ElementType::String | ElementType::Text | ElementType::Address => {
            string(&mut p);
            // A required text must say something: an empty string is a missing answer.
            let min = element
                .min_length
                .unwrap_or(0)
                .max(u64::from(always_required));
            if min > 0 {
                p.insert("minLength".into(), json!(min));
            }
            if let Some(max) = element.max_length {
                p.insert("maxLength".into(), json!(max));
            }
            if let Some(pattern) = &element.pattern {
                p.insert("pattern".into(), json!(pattern));
            }
            if let Some(hint) = &element.hint {
                p.insert("x-hint".into(), json!(hint));
                let en = element.hint_en.as_ref().unwrap_or(hint);
                p.insert("x-hint-en".into(), json!(en));
            }
        }
        ElementType::Integer | ElementType::Number | ElementType::Money => {
            let ty = if element.r#type == ElementType::Integer {
                "integer"
            } else {
                "number"
            };
            p.insert("type".into(), json!(ty));
            let mut minimum = element.minimum;
            if element.r#type == ElementType::Money {
                // Cents are checked in `validate_submission`: `multipleOf: 0.01` is the
                // documented intent, but binary floating point makes it refuse e.g. 0.07.
                p.insert("multipleOf".into(), json!(0.01));
                minimum = Some(minimum.map_or(0.0, |m| m.max(0.0)));
            }
            if let Some(m) = minimum {
                p.insert("minimum".into(), number(m));
            }
            if let Some(m) = element.maximum {
                p.insert("maximum".into(), number(m));
            }
        }
        ElementType::Boolean => {
            p.insert("type".into(), json!("boolean"));
        }
        ElementType::Date => {
            string(&mut p);
            p.insert("format".into(), json!("date"));
            p.insert("pattern".into(), json!(DATE_PATTERN));
        }
        ElementType::Month => {
            string(&mut p);
            p.insert("pattern".into(), json!(MONTH_PATTERN));
        }
        ElementType::Code => {
            string(&mut p);
            let codes: Vec<&str> = code_list
                .map(|l| l.values.iter().map(|v| v.code.as_str()).collect())
                .unwrap_or_default();
            p.insert("enum".into(), json!(codes));
        }
        ElementType::IdNumber => {
            string(&mut p);
            p.insert("pattern".into(), json!(ID_NUMBER_PATTERN));
        }
        ElementType::CreditCode => {
            string(&mut p);
            p.insert("pattern".into(), json!(CREDIT_CODE_PATTERN));
        }
        ElementType::Phone => {
            string(&mut p);
            p.insert("pattern".into(), json!(PHONE_PATTERN));
        }
    }
    Value::Object(p)
}

/// Integral bounds as JSON integers, so `integer` schemas read naturally.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// The schema of a whole form: one property per element, `required` for the fields that are
/// required and always asked.
pub(crate) fn form_schema(
    title: &str,
    properties: Map<String, Value>,
    required: Vec<String>,
) -> Value {
    json!({
        "$schema": DRAFT_2020_12,
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn titles(schema: &Value, field: &str) -> (String, String) {
    let p = &schema["properties"][field];
    let zh = p["title"].as_str().unwrap_or(field).to_string();
    let en = p["x-title-en"]
        .as_str()
        .map_or_else(|| zh.clone(), str::to_string);
    (zh, en)
}

fn limit(v: &Value) -> String {
    v.to_string()
}

/// Validates a submission against a form schema from this crate. Returns one error per
/// failing element (the field is the element code), with messages in Chinese and English.
pub fn validate_submission(schema: &Value, submission: &Value) -> Result<(), Vec<FieldError>> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            return Err(vec![FieldError::new(
                "",
                "bad_schema",
                Msg::owned(
                    format!("表单定义无效：{e}"),
                    format!("invalid form schema: {e}"),
                ),
            )]);
        }
    };
    let Some(object) = submission.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "type",
            Msg::new("提交的内容应为对象", "the submission must be a JSON object"),
        )]);
    };
    // A blank answer (what a browser sends for an empty input) is no answer: left out when
    // the field is optional, "required" when it is not.
    let blank = |v: &Value| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
    let submission: Map<String, Value> = object
        .iter()
        .filter(|(_, v)| !blank(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let submission = Value::Object(submission);
    let mut errors: Vec<FieldError> = Vec::new();
    let push = |errors: &mut Vec<FieldError>, e: FieldError| {
        if !errors.iter().any(|x| x.field == e.field) {
            errors.push(e);
        }
    };
    for e in validator.iter_errors(&submission) {
        use jsonschema::error::ValidationErrorKind as K;
        let pointer = e.instance_path().as_str();
        let from_path = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .replace("~1", "/")
            .replace("~0", "~");
        let kind = e.kind();
        let fields: Vec<String> = match kind {
            K::Required { property } => vec![property.as_str().unwrap_or_default().to_string()],
            K::AdditionalProperties { unexpected } => unexpected.clone(),
            _ => vec![from_path],
        };
        for field in fields {
            let (zh, en) = titles(schema, &field);
            let fe = match kind {
                K::Required { .. } => FieldError::new(
                    &field,
                    "required",
                    Msg::owned(format!("请填写{zh}"), format!("Enter {en}")),
                ),
                K::AdditionalProperties { .. } => FieldError::new(
                    &field,
                    "unknown_field",
                    Msg::owned(
                        format!("表单中没有“{field}”这一项"),
                        format!("The form has no field \"{field}\""),
                    ),
                ),
                K::Enum { .. } => FieldError::new(
                    &field,
                    "not_in_list",
                    Msg::owned(
                        format!("{zh}：请从列表中选择"),
                        format!("{en}: choose one of the listed values"),
                    ),
                ),
                K::Type { .. } => FieldError::new(
                    &field,
                    "type",
                    Msg::owned(
                        format!("{zh}的格式不正确"),
                        format!("{en} is not in the right form"),
                    ),
                ),
                K::MinLength { limit: 1 } => FieldError::new(
                    &field,
                    "required",
                    Msg::owned(format!("请填写{zh}"), format!("Enter {en}")),
                ),
                K::MinLength { limit } => FieldError::new(
                    &field,
                    "too_short",
                    Msg::owned(
                        format!("{zh}至少{limit}个字"),
                        format!("{en} must have at least {limit} characters"),
                    ),
                ),
                K::MaxLength { limit } => FieldError::new(
                    &field,
                    "too_long",
                    Msg::owned(
                        format!("{zh}最多{limit}个字"),
                        format!("{en} must have at most {limit} characters"),
                    ),
                ),
                K::Minimum { limit: l } | K::ExclusiveMinimum { limit: l } => FieldError::new(
                    &field,
                    "too_small",
                    Msg::owned(
                        format!("{zh}不能小于{}", limit(l)),
                        format!("{en} must be at least {}", limit(l)),
                    ),
                ),
                K::Maximum { limit: l } | K::ExclusiveMaximum { limit: l } => FieldError::new(
                    &field,
                    "too_large",
                    Msg::owned(
                        format!("{zh}不能大于{}", limit(l)),
                        format!("{en} must be at most {}", limit(l)),
                    ),
                ),
                // Cents are checked exactly below; the float keyword is not trusted.
                K::MultipleOf { .. } => continue,
                _ => type_error(&field, &schema["properties"][field.as_str()], &zh, &en),
            };
            push(&mut errors, fe);
        }
    }
    // Checks JSON Schema cannot express, on values that passed it.
    for (field, value) in submission.as_object().into_iter().flatten() {
        if errors.iter().any(|e| &e.field == field) {
            continue;
        }
        let p = &schema["properties"][field.as_str()];
        let (zh, en) = titles(schema, field);
        if let Some(e) = semantic_error(field, p, value, &zh, &en) {
            push(&mut errors, e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The message for a value that does not match its type's pattern or format.
fn type_error(field: &str, property: &Value, zh: &str, en: &str) -> FieldError {
    let format = |what_zh: &str, what_en: &str| {
        FieldError::new(
            field,
            "format",
            Msg::owned(format!("{zh}{what_zh}"), format!("{en} {what_en}")),
        )
    };
    match property["x-type"].as_str().unwrap_or_default() {
        "id_number" => FieldError::new(
            field,
            "format",
            id_number_error_message(kernel::ids::IdError::Charset),
        ),
        "credit_code" => FieldError::new(
            field,
            "format",
            credit_code_error_message(kernel::ids::IdError::Charset),
        ),
        "phone" => FieldError::new(
            field,
            "format",
            phone_error_message(kernel::ids::IdError::Charset),
        ),
        "date" => format(
            "应为日期，如 2026-01-31",
            "must be a date such as 2026-01-31",
        ),
        "month" => format("应为年月，如 2026-01", "must be a month such as 2026-01"),
        _ => match (property["x-hint"].as_str(), property["x-hint-en"].as_str()) {
            (Some(h), h_en) => format(
                &format!("的格式不正确，应为：{h}"),
                &format!("is not in the right form: {}", h_en.unwrap_or(h)),
            ),
            _ => format("的格式不正确", "is not in the right form"),
        },
    }
}

fn semantic_error(
    field: &str,
    property: &Value,
    value: &Value,
    zh: &str,
    en: &str,
) -> Option<FieldError> {
    let ty = property["x-type"].as_str()?;
    match (ty, value) {
        ("id_number", Value::String(s)) => IdNumber::parse(s)
            .err()
            .map(|e| FieldError::new(field, e.code(), id_number_error_message(e))),
        ("credit_code", Value::String(s)) => CreditCode::parse(s)
            .err()
            .map(|e| FieldError::new(field, e.code(), credit_code_error_message(e))),
        ("phone", Value::String(s)) => Phone::parse(s)
            .err()
            .map(|e| FieldError::new(field, "format", phone_error_message(e))),
        ("date", Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d").err().map(|_| {
            FieldError::new(
                field,
                "format",
                Msg::owned(
                    format!("{zh}不是有效的日期"),
                    format!("{en} is not a real date"),
                ),
            )
        }),
        ("money", Value::Number(n)) => {
            let cents = n.as_f64()? * 100.0;
            ((cents - cents.round()).abs() > 1e-6).then(|| {
                FieldError::new(
                    field,
                    "format",
                    Msg::owned(
                        format!("{zh}最多保留两位小数"),
                        format!("{en} may have at most two decimals"),
                    ),
                )
            })
        }
        _ => None,
    }
}
