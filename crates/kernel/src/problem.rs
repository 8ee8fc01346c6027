//! Errors as RFC 9457 problem details (`application/problem+json`), each with a stable `code`
//! that clients branch on and a message in Chinese and English that people read.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::msg::Msg;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The name of the field as submitted.
    pub field: String,
    pub code: String,
    pub message: Msg,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: Msg) -> FieldError {
        FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Msg,
    pub errors: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    message: &'a Msg,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: Msg) -> Problem {
        Problem {
            status,
            code,
            message,
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Msg::new(
                "提交的内容有误，请按提示修改",
                "Some of what you entered needs correcting",
            ),
        )
        .with_errors(errors)
    }

    pub fn bad_request(code: &'static str, message: Msg) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            Msg::new("请先登录", "Please sign in first"),
        )
    }

    pub fn forbidden() -> Problem {
        Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Msg::new("您没有权限执行此操作", "You are not allowed to do this"),
        )
    }

    pub fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Msg::new("找不到您要的内容", "We could not find what you asked for"),
        )
    }

    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            Msg::new(
                "系统出现错误，您的操作未完成，请稍后重试",
                "Something went wrong on our side and nothing was changed; please try again later",
            ),
        )
    }

    pub fn unavailable() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            Msg::new(
                "服务暂时不可用，请稍后重试",
                "The service is unavailable; please try again later",
            ),
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            kind: format!("https://haoban.dev/problems/{}", self.code),
            title: &self.message.en,
            status: self.status.as_u16(),
            detail: &self.message.zh,
            code: self.code,
            message: &self.message,
            errors: &self.errors,
        })
        .expect("problem serialises")
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl std::error::Error for Problem {}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.to_json().to_string();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Problem {
        tracing::error!(error = %e, "database error");
        match e {
            sqlx::Error::PoolTimedOut => Problem::unavailable(),
            _ => Problem::internal(),
        }
    }
}

/// A JSON request body whose failures answer as problem details: malformed JSON, a wrong
/// content type or a body over the limit each get their own code.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                Msg::new(
                    "请求内容类型应为 application/json",
                    "The request body must be application/json",
                ),
            )),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(too_large())
            }
            Err(e) => Err(Problem::bad_request(
                "malformed_json",
                Msg::owned(
                    format!("请求内容不是有效的JSON：{}", e.body_text()),
                    format!("The request body is not valid JSON: {}", e.body_text()),
                ),
            )),
        }
    }
}

pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        Msg::new("提交的内容过大", "The request body is too large"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_has_the_rfc_9457_members_and_both_languages() {
        let p = Problem::validation(vec![FieldError::new(
            "id_number",
            "checksum",
            Msg::new("校验位不正确", "Check digit does not match"),
        )]);
        let v = p.to_json();
        assert_eq!(v["status"], 400);
        assert_eq!(v["code"], "validation_failed");
        assert!(v["type"].as_str().unwrap().ends_with("/validation_failed"));
        assert_eq!(v["errors"][0]["field"], "id_number");
        assert_eq!(v["errors"][0]["message"]["zh"], "校验位不正确");
        assert_eq!(
            v["errors"][0]["message"]["en"],
            "Check digit does not match"
        );
        assert!(Problem::not_found().to_json().get("errors").is_none());
    }
}
