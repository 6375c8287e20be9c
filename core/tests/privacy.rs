//! Privacy by construction: every field a report can carry is on the reviewed allow-list in
//! `core/report-fields.allow`. A new field fails this test until someone adds it there, after
//! checking that it carries nothing that identifies a student or a person (user names, MAC
//! addresses, serial numbers, host names, full public IP addresses, browsing or DNS history,
//! process lists).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use fitcheck_core::report::Report;
use serde_json::Value;

fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/$defs/");
            resolve(root, &root["$defs"][name])
        }
        None => v,
    }
}

fn walk(root: &Value, v: &Value, path: &str, out: &mut BTreeSet<String>, depth: usize) {
    assert!(depth < 32, "schema nests too deep at {path}");
    let v = resolve(root, v);
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(branches) = v.get(key).and_then(Value::as_array) {
            for b in branches {
                let b = resolve(root, b);
                let tag = b["properties"]["check"]["const"]
                    .as_str()
                    .or_else(|| b["properties"]["check"]["enum"][0].as_str());
                let p = match tag {
                    Some(t) => format!("{path}({t})"),
                    None => path.to_owned(),
                };
                walk(root, b, &p, out, depth + 1);
            }
        }
    }
    if let Some(props) = v.get("properties").and_then(Value::as_object) {
        for (k, sub) in props {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            out.insert(p.clone());
            walk(root, sub, &p, out, depth + 1);
        }
    }
    if let Some(items) = v.get("items") {
        walk(root, items, &format!("{path}[]"), out, depth + 1);
    }
    if let Some(extra) = v.get("additionalProperties").filter(|a| a.is_object()) {
        let p = format!("{path}.*");
        out.insert(p.clone());
        walk(root, extra, &p, out, depth + 1);
    }
}

fn schema_fields() -> BTreeSet<String> {
    let schema = serde_json::to_value(schemars::schema_for!(Report)).unwrap();
    let mut out = BTreeSet::new();
    walk(&schema, &schema, "", &mut out, 0);
    out
}

fn allowed() -> BTreeSet<String> {
    include_str!("../report-fields.allow")
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_report_field_is_on_the_privacy_allow_list() {
    let fields = schema_fields();
    if std::env::var_os("PRINT_REPORT_FIELDS").is_some() {
        for f in &fields {
            println!("{f}");
        }
    }
    let allowed = allowed();
    let unlisted: Vec<&String> = fields.difference(&allowed).collect();
    assert!(
        unlisted.is_empty(),
        "report fields not on core/report-fields.allow (review them for personal data, then add them): {unlisted:#?}"
    );
    let stale: Vec<&String> = allowed.difference(&fields).collect();
    assert!(
        stale.is_empty(),
        "allow-list entries no report field has: {stale:#?}"
    );
}

#[test]
fn the_walk_sees_nested_and_tagged_fields() {
    let fields = schema_fields();
    for f in [
        "agent.labels.*",
        "device.gpu.adapters[].vram_bytes",
        "results[](dns).evidence.a",
        "results[](http).evidence.certificate.issuer",
        "evaluation.requirements[].status",
    ] {
        assert!(fields.contains(f), "{f} not found among {fields:#?}");
    }
}
