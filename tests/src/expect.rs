//! Expectations on the agent's reports, for the tests that run the real agent (the namespace
//! labs, the loopback servers).
//!
//! A lab run is expensive and its findings come together, so a lab test does not stop at the
//! first thing that is wrong: [`Expect`] checks one run's report and records every failure in
//! the test's [`Failures`], and [`Failures::finish`] panics at the end with all of them. The
//! free functions read a report the same way for tests that assert as they go.

use serde_json::Value;

use crate::lab::AgentRun;

/// Every failed expectation of one test, each with where it was seen (`[direct run]`,
/// `[servers]`), reported together by [`Failures::finish`].
#[derive(Debug, Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Records a failure seen in `scope`.
    pub fn add(&mut self, scope: &str, what: impl Into<String>) {
        self.0.push(format!("[{scope}] {}", what.into()));
    }

    /// Records `what` in `scope` unless `ok`.
    pub fn that(&mut self, scope: &str, ok: bool, what: impl Into<String>) {
        if !ok {
            self.add(scope, what);
        }
    }

    /// Expectations on the report of `run`, recorded here.
    pub fn run<'a>(&'a mut self, run: &'a AgentRun) -> Expect<'a> {
        Expect {
            scope: format!("{} run", run.name),
            run,
            failures: self,
        }
    }

    /// Panics listing every failure, when there is one.
    #[track_caller]
    pub fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} expectation(s) failed:\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// Expectations on one run's report; each one that does not hold is recorded in the test's
/// [`Failures`], quoting what the report said.
#[derive(Debug)]
pub struct Expect<'a> {
    run: &'a AgentRun,
    failures: &'a mut Failures,
    scope: String,
}

impl<'a> Expect<'a> {
    /// Records a failure of this run.
    pub fn fail(&mut self, what: impl Into<String>) {
        self.failures.add(&self.scope, what);
    }

    /// Records `what` unless `ok`.
    pub fn that(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.fail(what);
        }
    }

    /// The single result for `req`, unchecked ([`Expect::one`] reports a missing one).
    pub fn get(&self, req: &str) -> Option<&'a Value> {
        result(&self.run.report, req)
    }

    /// The single result for `req`, checked to be `check` with `outcome`. A wrong result is one
    /// failure: it is not returned, so its details are not also checked against the outcome it
    /// should have had.
    pub fn one(&mut self, req: &str, check: &str, outcome: &str) -> Option<&'a Value> {
        let found = results(&self.run.report, req);
        let [r] = found[..] else {
            self.fail(format!(
                "{req}: expected one result, found {}: {}",
                found.len(),
                pretty(&Value::Array(found.into_iter().cloned().collect()))
            ));
            return None;
        };
        if r["check"] != check || r["outcome"] != outcome {
            self.fail(format!(
                "{req} ({}): expected check {check} outcome {outcome}, got check {} outcome {}: {}",
                text(&r["target"]),
                r["check"],
                r["outcome"],
                pretty(r)
            ));
            return None;
        }
        Some(r)
    }

    /// An HTTP result with `outcome` and `blocking_layer` (absent when `None`).
    pub fn http(&mut self, req: &str, outcome: &str, layer: Option<&str>) -> Option<&'a Value> {
        let r = self.one(req, "http", outcome)?;
        let got = &r["evidence"]["blocking_layer"];
        let ok = match layer {
            Some(l) => got == l,
            None => got.is_null(),
        };
        if !ok {
            self.fail(format!(
                "{req} ({}): expected blocking_layer {}, got {got}: {}",
                text(&r["target"]),
                layer.unwrap_or("(none)"),
                pretty(r)
            ));
            return None;
        }
        Some(r)
    }

    /// Checks a property of a result, quoting the result when it does not hold (nothing when
    /// there is no result: [`Expect::one`] has said so).
    pub fn on(
        &mut self,
        req: &str,
        r: Option<&Value>,
        ok: impl FnOnce(&Value) -> bool,
        what: &str,
    ) {
        if let Some(r) = r
            && !ok(r)
        {
            self.fail(format!(
                "{req} ({}): expected {what}: {}",
                text(&r["target"]),
                pretty(r)
            ));
        }
    }

    /// The filter named: `evidence.signature.vendor`.
    pub fn vendor(&mut self, req: &str, r: Option<&Value>, vendor: &str) {
        self.on(
            req,
            r,
            |r| r["evidence"]["signature"]["vendor"] == vendor,
            &format!("evidence.signature.vendor {vendor:?}"),
        );
    }

    /// `evidence.proxy`: the proxy used, or none.
    pub fn proxy(&mut self, req: &str, r: Option<&Value>, proxy: Option<&str>) {
        self.on(
            req,
            r,
            |r| match proxy {
                Some(p) => r["evidence"]["proxy"] == p,
                None => r["evidence"]["proxy"].is_null(),
            },
            &format!("evidence.proxy {}", proxy.unwrap_or("absent")),
        );
    }

    /// A certificate issued by `issuer_cn`, trusted by the system, public or not.
    pub fn cert(&mut self, req: &str, r: Option<&Value>, issuer_cn: &str, public: bool) {
        self.on(
            req,
            r,
            |r| {
                let c = &r["evidence"]["certificate"];
                text(&c["issuer"]).contains(issuer_cn)
                    && c["trusted_by_system"] == true
                    && c["publicly_trusted"] == public
            },
            &format!(
                "certificate issued by {issuer_cn}, trusted_by_system true, publicly_trusted {public}"
            ),
        );
    }

    /// The evaluation of requirement `id`: `status`, and a remedy containing every one of
    /// `remedy` (none at all for a pass).
    pub fn judged(&mut self, id: &str, status: &str, remedy: &[&str]) {
        let Some(r) = requirement(&self.run.report, id) else {
            self.fail(format!("evaluation has no requirement {id}"));
            return;
        };
        let said = text(&r["remedy"]);
        let ok = r["status"] == status
            && remedy.iter().all(|m| said.contains(m))
            && (status != "pass" || r["remedy"].is_null());
        if !ok {
            self.fail(format!(
                "evaluation {id}: expected status {status} with a remedy naming {remedy:?}: {}",
                pretty(r)
            ));
        }
    }
}

/// The results in `report` serving requirement `req`.
pub fn results<'a>(report: &'a Value, req: &str) -> Vec<&'a Value> {
    report["results"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["requirement"] == req).collect())
        .unwrap_or_default()
}

/// The result serving requirement `req`, when there is exactly one.
pub fn result<'a>(report: &'a Value, req: &str) -> Option<&'a Value> {
    match results(report, req)[..] {
        [r] => Some(r),
        _ => None,
    }
}

/// The evaluation of requirement `id` in `report`.
pub fn requirement<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["evaluation"]["requirements"]
        .as_array()?
        .iter()
        .find(|r| r["id"] == id)
}

/// `v` as indented JSON, to quote in a failure.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The string `v` holds; empty when it holds none.
pub fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The strings of the array `v` (addresses, resolvers); empty when it is not an array.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| text(x).to_owned()).collect())
        .unwrap_or_default()
}

/// Whether `v` is a measured duration or count: a number, at least 0.
pub fn measured(v: &Value) -> bool {
    v.as_f64().is_some_and(|x| x >= 0.0)
}
