//! The page shell every page shares — language, landmarks, a skip link, navigation, one `h1`
//! per page — and the small pieces pages repeat: status words, times, short ids.

use axum::http::StatusCode;
use fitcheck_core::evaluate::Status;
use maud::{DOCTYPE, Markup, html};

use crate::clock;
use crate::store::UserRow;
use fitcheck_engine::FleetVerdict;

/// Which part of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Fleet,
    Evaluations,
    Watches,
    Sis,
    None,
}

/// Options of one page.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The document title (also the `h1` unless the page writes its own).
    pub title: &'a str,
    pub user: Option<&'a UserRow>,
    pub section: Section,
    /// Seconds after which the browser reloads the page (live progress without scripts).
    pub refresh_s: Option<u32>,
}

/// A whole page around `body`, which holds the page's `h1`.
pub fn page(frame: Frame<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(s) = frame.refresh_s {
                    meta http-equiv="refresh" content=(s);
                }
                title { (frame.title) " — fitcheck" }
                link rel="stylesheet" href="/assets/fitcheck.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    div.brand { a href="/" { "fitcheck" } span.tag { "compatibility review" } }
                    @if let Some(u) = frame.user {
                        nav aria-label="Main" {
                            ul {
                                @if u.role == "admin" {
                                    li { a href="/fleet" aria-current=[current(frame.section, Section::Fleet)] { "Fleet" } }
                                }
                                li { a href="/evaluations" aria-current=[current(frame.section, Section::Evaluations)] { "Evaluations" } }
                                li { a href="/watches" aria-current=[current(frame.section, Section::Watches)] { "Watched" } }
                                li { a href="/sis" aria-current=[current(frame.section, Section::Sis)] { "SIS exports" } }
                            }
                        }
                        div.who {
                            span { "Signed in as " strong { (u.username) } " (" (role_words(&u.role)) ")" }
                            form method="post" action="/logout" {
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (body)
                }
                footer.bottom {
                    p { "fitcheck controller " (env!("CARGO_PKG_VERSION")) " · pages work without JavaScript · "
                        a href="/api/openapi.json" { "API description" } }
                }
            }
        }
    }
}

fn current(section: Section, this: Section) -> Option<&'static str> {
    (section == this).then_some("page")
}

pub fn role_words(role: &str) -> &'static str {
    match role {
        "admin" => "administrator",
        "reviewer" => "reviewer",
        _ => "unknown role",
    }
}

/// A requirement status in words, with a symbol and a colour that only repeat the words.
pub fn status(s: Status) -> Markup {
    let (class, symbol, words) = status_parts(s);
    html! { span class={ "st " (class) } { span aria-hidden="true" { (symbol) } " " (words) } }
}

pub fn status_parts(s: Status) -> (&'static str, &'static str, &'static str) {
    match s {
        Status::Pass => ("st-pass", "✓", "Pass"),
        Status::Warn => ("st-warn", "!", "Warning"),
        Status::Fail => ("st-fail", "✗", "Fail"),
        Status::Unknown => ("st-unknown", "?", "Unknown"),
    }
}

/// The CSS class and symbol of a fleet verdict.
pub fn verdict_parts(v: FleetVerdict) -> (&'static str, &'static str) {
    match v {
        FleetVerdict::Compatible => ("v-compatible", "✓"),
        FleetVerdict::CompatibleWithConditions => ("v-conditions", "!"),
        FleetVerdict::NotCompatible => ("v-not", "✗"),
        FleetVerdict::InsufficientEvidence => ("v-insufficient", "?"),
    }
}

/// A verdict as a small label (lists, comparisons).
pub fn verdict_chip(v: FleetVerdict) -> Markup {
    let (class, symbol) = verdict_parts(v);
    html! { span class={ "chip " (class) } { span aria-hidden="true" { (symbol) } " " (v.words()) } }
}

/// A stored time (Unix ms) for people, machine-readable too.
pub fn time_ms(ms: i64) -> Markup {
    let iso = clock::rfc3339(ms);
    html! { time datetime=(iso) { (readable(&iso)) } }
}

/// An RFC 3339 time as people read it: `2026-11-20 10:02 UTC`.
pub fn time_text(iso: &str) -> Markup {
    html! { time datetime=(iso) { (readable(iso)) } }
}

fn readable(iso: &str) -> String {
    match clock::parse_rfc3339(iso) {
        Ok(ms) => {
            let t = clock::rfc3339(ms);
            // 2026-11-20T10:02:00Z → 2026-11-20 10:02 UTC
            match (t.get(..10), t.get(11..16)) {
                (Some(d), Some(hm)) if t.ends_with('Z') => format!("{d} {hm} UTC"),
                _ => t,
            }
        }
        Err(_) => iso.to_owned(),
    }
}

pub use crate::present::render::short;

/// A link to a stored report, by its short id.
pub fn report_link(report_id: &str) -> Markup {
    html! { a href={ "/reports/" (super::encode(report_id)) } title={ "report " (report_id) } { "report " code { (short(report_id)) } } }
}

/// The page shown for an error.
pub fn error_page(status: StatusCode, message: &str, user: Option<&UserRow>) -> Markup {
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            "That request cannot be answered"
        }
        StatusCode::SERVICE_UNAVAILABLE => "Unavailable for a moment",
        _ => "Something went wrong",
    };
    page(
        Frame {
            title,
            user,
            section: Section::None,
            refresh_s: None,
        },
        html! {
            h1 { (title) }
            div.notice role="alert" {
                p { (message) }
            }
            p.muted { "Status " (status.as_u16()) "." }
            p { a href="/evaluations" { "Go to the evaluations" } }
        },
    )
}

/// The log-in form; `next` is where a successful log-in leads (a local path).
pub fn login_page(next: &str, problem: Option<&str>, username: &str) -> Markup {
    page(
        Frame {
            title: "Log in",
            user: None,
            section: Section::None,
            refresh_s: None,
        },
        html! {
            div.narrow {
                h1 { "Log in" }
                p { "Technology operations and the review committee log in with the account an administrator gave them." }
                @if let Some(p) = problem {
                    div.notice.bad role="alert" id="login-problem" { p { (p) } }
                }
                form.stack method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    div.field {
                        label for="username" { "User name" }
                        input id="username" name="username" type="text" autocomplete="username"
                            required autofocus[problem.is_none()] value=(username)
                            aria-describedby=[problem.map(|_| "login-problem")];
                    }
                    div.field {
                        label for="password" { "Password" }
                        input id="password" name="password" type="password" autocomplete="current-password" required;
                    }
                    button.primary type="submit" { "Log in" }
                }
            }
        },
    )
}

/// The form where a person chooses their own password (required after a one-time one).
pub fn password_page(user: &UserRow, next: &str, problem: Option<&str>) -> Markup {
    page(
        Frame {
            title: "Choose your password",
            user: Some(user),
            section: Section::None,
            refresh_s: None,
        },
        html! {
            div.narrow {
                h1 { "Choose your password" }
                @if user.must_change_password() {
                    p { "The password you logged in with was chosen for you and works once. Choose your own to go on." }
                }
                p { "At least 12 characters; a phrase of several words is easiest to remember. Your other sessions end." }
                @if let Some(p) = problem {
                    div.notice.bad role="alert" id="password-problem" { p { (p) } }
                }
                form.stack method="post" action="/password" {
                    input type="hidden" name="next" value=(next);
                    div.field {
                        label for="current" { "Current password" }
                        input id="current" name="current" type="password" autocomplete="current-password"
                            required autofocus aria-describedby=[problem.map(|_| "password-problem")];
                    }
                    div.field {
                        label for="new" { "New password" }
                        input id="new" name="new" type="password" autocomplete="new-password" minlength="12" required;
                    }
                    div.field {
                        label for="confirm" { "New password again" }
                        input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="12" required;
                    }
                    button.primary type="submit" { "Change password" }
                }
            }
        },
    )
}

/// A page with the log-out button alone (for a `GET /logout`).
pub fn logout_page(user: &UserRow) -> Markup {
    page(
        Frame {
            title: "Log out",
            user: Some(user),
            section: Section::None,
            refresh_s: None,
        },
        html! {
            div.narrow {
                h1 { "Log out" }
                p { "You are signed in as " strong { (user.username) } "." }
                form method="post" action="/logout" {
                    button.primary type="submit" { "Log out" }
                }
            }
        },
    )
}
