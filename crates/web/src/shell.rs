use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, State, UndefinedBehavior, Value};
use serde::Serialize;

use crate::ctx::Ctx;

const LAYOUT: &str = include_str!("../templates/layout.html");
const NOT_FOUND: &str = include_str!("../templates/not_found.html");
const ERROR: &str = include_str!("../templates/error.html");
const HOME: &str = include_str!("../templates/home.html");
const MACROS: &str = include_str!("../templates/macros.html");

/// The compiled templates of every context, shared by all requests.
#[derive(Clone)]
pub struct Shell {
    env: Arc<Environment<'static>>,
}

pub struct ShellBuilder {
    env: Environment<'static>,
}

impl ShellBuilder {
    /// Adds a context's templates; a name clash or a syntax error stops the start.
    pub fn templates(mut self, templates: &[(&'static str, &'static str)]) -> Self {
        for (name, source) in templates {
            assert!(
                self.env.get_template(name).is_err(),
                "template {name} registered twice"
            );
            self.env
                .add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        self
    }

    pub fn build(self) -> Shell {
        Shell {
            env: Arc::new(self.env),
        }
    }
}

/// `tr("中文", "English")`: picks the text of the page's language.
fn tr(state: &State, zh: String, en: String) -> String {
    let lang = state.lookup("lang");
    if lang.as_ref().and_then(|v| v.as_str()) == Some("en") {
        en
    } else {
        zh
    }
}

impl Shell {
    pub fn builder() -> ShellBuilder {
        let mut env = Environment::new();
        // A missing variable is a bug, not an empty string on a citizen's screen.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_function("tr", tr);
        for (name, source) in [
            ("layout.html", LAYOUT),
            ("macros.html", MACROS),
            ("not_found.html", NOT_FOUND),
            ("error.html", ERROR),
            ("home.html", HOME),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        ShellBuilder { env }
    }

    /// Every template name, for the test that renders them all.
    pub fn template_names(&self) -> Vec<String> {
        self.env.templates().map(|(n, _)| n.to_string()).collect()
    }

    /// Renders a page with the request's context merged with the page's own values.
    pub fn render<S: Serialize>(&self, name: &str, ctx: &Ctx, page: S) -> Response {
        self.render_status(StatusCode::OK, name, ctx, page)
    }

    pub fn render_status<S: Serialize>(
        &self,
        status: StatusCode,
        name: &str,
        ctx: &Ctx,
        page: S,
    ) -> Response {
        match self.render_string(name, ctx, page) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, Html(fallback_error())).into_response()
            }
        }
    }

    pub fn render_string<S: Serialize>(
        &self,
        name: &str,
        ctx: &Ctx,
        page: S,
    ) -> Result<String, minijinja::Error> {
        let tmpl = self.env.get_template(name)?;
        let page = Value::from_serialize(&page);
        let base = Value::from_serialize(ctx);
        let merged = minijinja::context! { ..page, ..base };
        tmpl.render(merged)
    }
}

fn fallback_error() -> String {
    "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>出错了 Error</title>\
     <p>系统出现错误，请稍后重试。Something went wrong; please try again later.</p></html>"
        .to_string()
}

/// The page for a route nobody serves.
pub fn not_found_page(shell: &Shell, ctx: &Ctx) -> Response {
    shell.render_status(StatusCode::NOT_FOUND, "not_found.html", ctx, ())
}
