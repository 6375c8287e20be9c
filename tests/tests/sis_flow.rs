//! The data-files path as a district walks it, with the built binaries on loopback: the SIS
//! liaison inspects an export in which every cell is a unique marker, an enrolled agent uploads
//! the summary (twice: kept once), an administrator uploads a product with data needs and
//! opens an evaluation, and the committee reads the recommendation and the Data Projects Form
//! in every format. No marker may appear in the summary, the inspector's output, any answer,
//! page or export, the controller's database files or its log. A malformed summary is refused
//! and stores nothing.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use fitcheck_tests::controller::ControllerProcess;
use fitcheck_tests::lab::agent_cli;
use serde_json::{Value, json};

const PRODUCT: &str = include_str!("../../controller/tests/data/recommend/data-product.toml");

/// A OneRoster 1.1 export in which every cell but the roles is a marker of its own.
fn marked_export(dir: &Path) -> Result<Vec<String>> {
    let mut markers: Vec<String> = Vec::new();
    let mut mark = || {
        let m = format!("ZQW{:05}CELL", markers.len());
        markers.push(m.clone());
        m
    };
    let mut users = String::from(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n",
    );
    for i in 0..30 {
        let role = if i % 10 == 0 { "teacher" } else { "student" };
        let row: Vec<String> = (0..18)
            .map(|c| if c == 5 { role.to_owned() } else { mark() })
            .collect();
        users.push_str(&row.join(","));
        users.push('\n');
    }
    let mut enrollments = String::from(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n",
    );
    for _ in 0..30 {
        let row: Vec<String> = (0..10)
            .map(|c| if c == 6 { "student".to_owned() } else { mark() })
            .collect();
        enrollments.push_str(&row.join(","));
        enrollments.push('\n');
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\nfile.enrollments,bulk\nsource.systemName,PowerSchool\n",
    )?;
    std::fs::write(dir.join("users.csv"), users)?;
    std::fs::write(dir.join("enrollments.csv"), enrollments)?;
    Ok(markers)
}

fn leaks(what: &str, text: &str, markers: &[String]) -> Result<()> {
    // Every marker starts with the same letters: one search finds any of them.
    if let Some(at) = text.find("ZQW") {
        let shown: String = text[at..].chars().take(16).collect();
        let known = markers.iter().any(|m| shown.starts_with(m.as_str()));
        bail!("{what} holds a cell value ({shown}; a marker: {known})");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_summarised_uploaded_judged_and_formed_without_a_value_leaving() -> Result<()>
{
    let work = tempfile::tempdir()?;
    let export = work.path().join("export");
    let markers = marked_export(&export)?;
    ensure!(markers.len() == 30 * 17 + 30 * 9);

    // The SIS liaison, on the machine that holds the export.
    let state = work.path().join("agent");
    let summary_file = work.path().join("summary.json");
    let out = fitcheck_tests::lab::run_bounded(
        std::process::Command::new(fitcheck_tests::lab::workspace_binary("fitcheck-agent")?)
            .args(["sis", "inspect"])
            .arg(&export)
            .arg("--out")
            .arg(&summary_file),
        std::time::Duration::from_secs(60),
    )?;
    ensure!(
        out.status.success(),
        "sis inspect: {}{}",
        out.stdout,
        out.stderr
    );
    leaks(
        "sis inspect's output",
        &format!("{}{}", out.stdout, out.stderr),
        &markers,
    )?;
    ensure!(
        out.stdout.contains("users.csv: 30 row(s)"),
        "{}",
        out.stdout
    );
    let summary_text = std::fs::read_to_string(&summary_file)?;
    leaks("the summary file", &summary_text, &markers)?;

    // The controller, an agent enrolled with it, and the summary sent through the agent.
    let data = work.path().join("controller");
    let mut controller = ControllerProcess::start(&data, None)?;
    let secret = controller.secret()?;
    controller.enroll_agent(&secret, &state, "district-office")?;
    let upload = |expect: &str| -> Result<()> {
        let f = agent_cli(
            &["sis", "upload", &summary_file.display().to_string()],
            &state,
        )?;
        ensure!(
            f.status.success() && f.stdout.contains(expect),
            "sis upload: {}{}",
            f.stdout,
            f.stderr
        );
        Ok(())
    };
    upload(": stored")?;
    upload(": duplicate")?;

    let mut client = controller.client()?;
    client
        .login("admin", &controller.admin_password.clone())
        .await?;
    let (status, list) = client.get("/api/v1/sis-summaries").await?;
    ensure!(status == 200, "{list}");
    ensure!(
        list.as_array().map(Vec::len) == Some(1),
        "kept once: {list}"
    );
    ensure!(list[0]["source_system"] == "PowerSchool", "{list}");
    ensure!(list[0]["users"] == 30, "{list}");

    // A summary that carries a value where a column name belongs is refused, and nothing is
    // kept.
    let mut smuggled: Value = serde_json::from_str(&summary_text)?;
    smuggled["summary_id"] = json!(uuid::Uuid::new_v4());
    smuggled["files"][0]["columns"][0]["name"] = json!("x".repeat(300));
    let (status, answer) = client
        .post(
            "/api/v1/sis-summaries",
            smuggled.to_string(),
            "application/json",
        )
        .await?;
    ensure!(status == 422, "{status} {answer}");
    ensure!(answer["field"] == "files[0].columns[0].name", "{answer}");
    let (status, answer) = client
        .post(
            "/api/v1/sis-summaries",
            "{\"schema\": \"fitcheck.sis-".to_owned(),
            "application/json",
        )
        .await?;
    ensure!(status == 400, "{status} {answer}");
    let (_, list) = client.get("/api/v1/sis-summaries").await?;
    ensure!(
        list.as_array().map(Vec::len) == Some(1),
        "nothing stored: {list}"
    );

    // The product and its evaluation, judged against the summary.
    let (status, profile) = client
        .post(
            "/api/v1/profiles?name=data-product.toml",
            PRODUCT.to_owned(),
            "application/toml",
        )
        .await?;
    ensure!(status == 201, "{profile}");
    let (status, evaluation) = client
        .post(
            "/api/v1/evaluations",
            json!({
                "title": "Roster feed",
                "profile": profile["id"],
                "window_end": "2099-01-01T00:00:00Z",
                "proposal": {"dpa_exhibit_b": ["student_name", "student_identifiers"]},
            })
            .to_string(),
            "application/json",
        )
        .await?;
    ensure!(status == 201, "{evaluation}");
    let id = evaluation["id"]
        .as_str()
        .context("evaluation id")?
        .to_owned();
    let (status, r) = client
        .get(&format!("/api/v1/evaluations/{id}/recommendation"))
        .await?;
    ensure!(status == 200, "{r}");
    ensure!(r["data"]["status"] == "assessed", "{}", r["data"]);
    ensure!(
        r["data"]["export"]["source_system"] == "PowerSchool",
        "{}",
        r["data"]
    );
    let given = &r["data"]["elements"][0];
    ensure!(
        given["source"] == "users.givenName" && given["status"] == "met",
        "{given}"
    );
    // The export has no demographics.csv and no state id: columns to add. Its passwords and
    // phone numbers are more than the vendor needs.
    let kinds: Vec<&str> = r["conditions"]
        .as_array()
        .context("conditions")?
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    ensure!(kinds.contains(&"data_minimise"), "{kinds:?}");
    ensure!(kinds.contains(&"data_add"), "{kinds:?}");
    leaks("the recommendation (JSON)", &r.to_string(), &markers)?;

    for path in [
        format!("/api/v1/evaluations/{id}/recommendation?format=md"),
        format!("/api/v1/evaluations/{id}/data-form?format=md"),
        format!("/api/v1/evaluations/{id}/data-form?format=csv"),
        format!("/api/v1/evaluations/{id}/data-form?format=pdf"),
        format!("/evaluations/{id}/recommendation"),
        format!("/evaluations/{id}/recommendation.pdf"),
        format!("/evaluations/{id}/data-form.md"),
        format!("/evaluations/{id}/data-form.csv"),
        format!("/evaluations/{id}/data-form.pdf"),
        "/sis".to_owned(),
        format!(
            "/api/v1/sis-summaries/{}",
            list[0]["id"].as_str().unwrap_or("")
        ),
    ] {
        let (status, text) = client.get_text(&path).await?;
        ensure!(status == 200, "{path}: {status} {text}");
        leaks(&path, &text, &markers)?;
    }
    let (_, form) = client
        .get_text(&format!("/evaluations/{id}/data-form.md"))
        .await?;
    ensure!(
        form.contains("# Data Projects Form — Data Product"),
        "{form}"
    );
    ensure!(form.contains("SIS liaison: name"), "{form}");
    let (_, page) = client
        .get_text(&format!("/evaluations/{id}/recommendation"))
        .await?;
    ensure!(
        page.contains("id=\"data-h\""),
        "the page has the data section"
    );

    // Nothing of the export in what the controller keeps or logs.
    controller.terminate()?;
    for entry in std::fs::read_dir(&data)? {
        let path = entry?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path)?;
            leaks(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
                &markers,
            )?;
        }
    }
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
    ensure!(
        log.contains("SIS summary received"),
        "the log shows the upload: {log}"
    );
    leaks("the controller's log", &log, &markers)?;
    Ok(())
}
