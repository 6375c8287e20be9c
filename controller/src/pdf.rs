//! The printable recommendation: an A4 PDF for the committee packet, written with
//! `pdf-writer` and the standard Helvetica fonts (every PDF reader has them, so nothing is
//! embedded). The verdict is on the first page, under the title. Text is laid out here: words
//! are wrapped with Helvetica's own character widths.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::recommend::{FleetVerdict, Recommendation};
use crate::render::throughput_words;
use fitcheck_core::evaluate::Status;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126, from Adobe's AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Text in WinAnsiEncoding (what the standard fonts use), with the few non-ASCII signs the
/// recommendation uses mapped; anything else becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => out.push(c as u8),
            '—' => out.push(0x97),
            '–' => out.push(0x96),
            '•' => out.push(0x95),
            '’' => out.push(0x92),
            '‘' => out.push(0x91),
            '“' => out.push(0x93),
            '”' => out.push(0x94),
            '×' => out.push(0xD7),
            '≥' => out.extend_from_slice(b">="),
            '≤' => out.extend_from_slice(b"<="),
            '\u{a0}'..='\u{ff}' => out.push(c as u32 as u8),
            _ => out.push(b'?'),
        }
    }
    out
}

fn width(bytes: &[u8], size: f32, bold: bool) -> f32 {
    let units: u32 = bytes
        .iter()
        .map(|b| match b {
            32..=126 => u32::from(HELVETICA[usize::from(b - 32)]),
            0x97 => 1000,
            _ => 600,
        })
        .sum();
    // Helvetica-Bold runs up to about 10 % wider.
    let factor = if bold { 1.1 } else { 1.0 };
    units as f32 / 1000.0 * size * factor
}

/// Splits `text` into lines no wider than `max` points.
fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split_whitespace() {
        let w = win_ansi(word);
        let candidate_len = if line.is_empty() {
            w.len()
        } else {
            line.len() + 1 + w.len()
        };
        let mut candidate = Vec::with_capacity(candidate_len);
        candidate.extend_from_slice(&line);
        if !line.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(&w);
        if width(&candidate, size, bold) <= max || line.is_empty() {
            line = candidate;
            // A single word longer than the line is cut.
            while width(&line, size, bold) > max && line.len() > 1 {
                let mut cut = line.len();
                while cut > 1 && width(&line[..cut], size, bold) > max {
                    cut -= 1;
                }
                lines.push(line[..cut].to_vec());
                line = line[cut..].to_vec();
            }
        } else {
            lines.push(std::mem::take(&mut line));
            line = w;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being written, top to bottom.
struct Layout {
    pages: Vec<Content>,
    y: f32,
    footer: String,
}

impl Layout {
    fn new(footer: String) -> Layout {
        let mut l = Layout {
            pages: Vec::new(),
            y: 0.0,
            footer,
        };
        l.new_page();
        l
    }

    fn page(&mut self) -> &mut Content {
        let n = self.pages.len();
        &mut self.pages[n - 1]
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn room(&mut self, needed: f32) {
        if self.y - needed < MARGIN + 20.0 {
            self.new_page();
        }
    }

    fn text_line(&mut self, x: f32, bytes: &[u8], size: f32, bold: bool, rgb: (f32, f32, f32)) {
        let y = self.y;
        let font = if bold { Name(b"F2") } else { Name(b"F1") };
        let c = self.page();
        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
        c.begin_text();
        c.set_font(font, size);
        c.next_line(x, y);
        c.show(Str(bytes));
        c.end_text();
    }

    /// A wrapped paragraph; `indent` shifts the lines after the first (hanging indent).
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, x: f32, indent: f32) {
        let leading = size * 1.35;
        let lines = wrap(text, size, bold, TEXT_W - (x - MARGIN) - indent);
        for (i, line) in lines.iter().enumerate() {
            self.room(leading);
            self.y -= leading;
            let at = if i == 0 { x } else { x + indent };
            self.text_line(at, line, size, bold, (0.1, 0.1, 0.12));
        }
    }

    fn heading(&mut self, text: &str) {
        self.room(40.0);
        self.y -= 10.0;
        self.paragraph(text, 13.0, true, MARGIN, 0.0);
        self.y -= 3.0;
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn banner(&mut self, verdict: FleetVerdict) {
        let (r, g, b) = match verdict {
            FleetVerdict::Compatible => (0.10, 0.45, 0.22),
            FleetVerdict::CompatibleWithConditions => (0.62, 0.40, 0.0),
            FleetVerdict::NotCompatible => (0.70, 0.12, 0.12),
            FleetVerdict::InsufficientEvidence => (0.30, 0.33, 0.40),
        };
        self.room(44.0);
        self.y -= 40.0;
        let y = self.y;
        let c = self.page();
        c.set_fill_rgb(r, g, b);
        c.rect(MARGIN, y, TEXT_W, 34.0);
        c.fill_nonzero();
        let text = win_ansi(&format!("Verdict: {}", verdict.words()));
        self.y += 11.0;
        self.text_line(MARGIN + 12.0, &text, 16.0, true, (1.0, 1.0, 1.0));
        self.y -= 11.0;
    }

    /// One horizontal bar of what was measured, on the chart's shared `scale` (Mbit/s at full
    /// width, the same for every site), with the need marked by a dark line across it.
    fn bar(&mut self, label: &str, measured: Option<f64>, needed: Option<f64>, scale: f64) {
        let Some(m) = measured else {
            return;
        };
        let ok = needed.is_none_or(|n| m >= n);
        let full = TEXT_W - 150.0;
        let at = |v: f64| (v / scale.max(0.001)).clamp(0.0, 1.0) as f32 * full;
        self.room(18.0);
        self.y -= 12.0;
        self.text_line(MARGIN + 12.0, &win_ansi(label), 8.5, false, (0.2, 0.2, 0.2));
        let y = self.y;
        let (r, g, b) = if ok {
            (0.10, 0.45, 0.22)
        } else {
            (0.70, 0.12, 0.12)
        };
        let c = self.page();
        c.set_fill_rgb(r, g, b);
        c.rect(MARGIN + 130.0, y - 1.0, at(m).max(1.0), 7.0);
        c.fill_nonzero();
        if let Some(n) = needed {
            c.set_fill_rgb(0.05, 0.05, 0.1);
            c.rect(MARGIN + 130.0 + at(n) - 0.75, y - 4.0, 1.5, 13.0);
            c.fill_nonzero();
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let total = self.pages.len();
        let footer = self.footer.clone();
        for (i, c) in self.pages.iter_mut().enumerate() {
            let text = win_ansi(&format!("{footer} — page {} of {total}", i + 1));
            c.set_fill_rgb(0.4, 0.4, 0.45);
            c.begin_text();
            c.set_font(Name(b"F1"), 8.0);
            c.next_line(MARGIN, MARGIN - 20.0);
            c.show(Str(&text));
            c.end_text();
        }
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first = 6;
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        let page_ids: Vec<Ref> = (0..total).map(|i| Ref::new(first + 2 * i as i32)).collect();
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(total as i32);
        pdf.type1_font(regular)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.document_info(info)
            .title(pdf_writer::TextStr("fitcheck recommendation"))
            .producer(pdf_writer::TextStr("fitcheck-controller"));
        for (i, content) in self.pages.into_iter().enumerate() {
            let page_id = page_ids[i];
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(page_id);
            page.parent(tree)
                .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .contents(content_id);
            let mut resources = page.resources();
            resources
                .fonts()
                .pair(Name(b"F1"), regular)
                .pair(Name(b"F2"), bold);
            resources.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Unknown => "unknown",
    }
}

/// The recommendation as a PDF document.
pub fn recommendation_pdf(r: &Recommendation) -> Vec<u8> {
    let e = &r.evaluation;
    let mut l = Layout::new(format!("fitcheck recommendation {}", e.id));
    l.paragraph(
        &format!("{} — technology recommendation", e.product),
        20.0,
        true,
        MARGIN,
        0.0,
    );
    l.paragraph(&e.title, 11.0, false, MARGIN, 0.0);
    l.banner(r.verdict);
    l.gap(6.0);
    l.paragraph(&r.summary, 10.5, false, MARGIN, 0.0);
    l.gap(6.0);

    let p = &e.proposal;
    let mut facts: Vec<(&str, String)> = vec![("Product", format!("{} — {}", e.product, e.vendor))];
    if let Some(v) = &p.sponsor {
        facts.push(("Sponsor", v.clone()));
    }
    if let Some(v) = &p.deadline {
        facts.push(("Decision needed by", v.clone()));
    }
    if let Some(v) = &p.budget_code {
        facts.push(("Budget code", v.clone()));
    }
    if !p.data_needs.is_empty() {
        facts.push(("Data the product needs", p.data_needs.join("; ")));
    }
    facts.push((
        "Window",
        format!(
            "{} to {}",
            e.window_start.as_deref().unwrap_or("—"),
            e.window_end
        ),
    ));
    facts.push((
        "Profile",
        format!("{} ({})", e.profile_id, e.profile_digest),
    ));
    facts.push(("Written", r.generated_at.clone()));
    for (label, value) in facts {
        l.paragraph(&format!("{label}: {value}"), 9.0, false, MARGIN, 12.0);
    }

    if !r.blockers.is_empty() {
        l.heading("Why it cannot be used");
        for b in &r.blockers {
            l.paragraph(
                &format!("• {} ({}): {}", b.title, b.requirement, b.reason),
                10.0,
                false,
                MARGIN,
                10.0,
            );
        }
    }
    if !r.gaps.is_empty() {
        l.heading("Evidence still missing");
        for g in &r.gaps {
            l.paragraph(&format!("• {g}"), 10.0, false, MARGIN, 10.0);
        }
    }
    l.heading("Conditions");
    if r.conditions.is_empty() {
        l.paragraph("None: nothing needs to change.", 10.0, false, MARGIN, 0.0);
    }
    for c in &r.conditions {
        let need = if c.required {
            "required"
        } else {
            "recommended"
        };
        l.paragraph(
            &format!("[  ] {} — {}, {need}", c.action, c.owner),
            10.0,
            false,
            MARGIN,
            18.0,
        );
        if !c.evidence.is_empty() {
            let ids: Vec<String> = c
                .evidence
                .iter()
                .map(|e| format!("{} ({})", crate::render::short(&e.report_id), e.site))
                .collect();
            l.paragraph(
                &format!("evidence: {}", ids.join(", ")),
                7.5,
                false,
                MARGIN + 18.0,
                0.0,
            );
        }
        l.gap(2.0);
    }

    l.heading("Coverage");
    for c in &r.coverage {
        l.paragraph(
            &format!(
                "{}: {} of {} agent(s) in scope reported{}",
                c.site,
                c.devices_reported,
                c.agents,
                if c.enough {
                    ""
                } else {
                    " — not enough to judge"
                }
            ),
            10.0,
            false,
            MARGIN,
            10.0,
        );
    }
    if !r.matrix.is_empty() {
        l.heading("Network requirements by site");
        for row in &r.matrix {
            let cells: Vec<String> = row
                .sites
                .iter()
                .map(|(site, c)| {
                    let total = c.pass + c.warn + c.fail + c.unknown;
                    format!("{site} {} ({total})", status_word(c.status))
                })
                .collect();
            l.paragraph(
                &format!(
                    "{}{} — expected {}: {}",
                    row.title,
                    if row.critical { "" } else { " (optional)" },
                    row.expected,
                    cells.join("; ")
                ),
                9.0,
                false,
                MARGIN,
                12.0,
            );
        }
    }
    if !r.device_models.is_empty() {
        l.heading("Devices by model");
        for m in &r.device_models {
            let failing: Vec<String> = m
                .requirements
                .iter()
                .filter(|(_, c)| c.status == Status::Fail || c.status == Status::Warn)
                .map(|(id, c)| format!("{id}: {}", c.observed.join(" / ")))
                .collect();
            l.paragraph(
                &format!(
                    "{} — {} device(s) at {}: {}{}",
                    m.model,
                    m.devices,
                    m.sites.join(", "),
                    status_word(m.status),
                    if failing.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", failing.join("; "))
                    }
                ),
                9.0,
                false,
                MARGIN,
                12.0,
            );
        }
    }
    if !r.throughput.is_empty() {
        l.heading("Uplink capacity by site");
        // One scale for every site and both directions, so bars compare across the page.
        let scale = r
            .throughput
            .iter()
            .flat_map(|t| {
                [
                    t.download_measured_mbps,
                    t.download_needed_mbps,
                    t.upload_measured_mbps,
                    t.upload_needed_mbps,
                ]
            })
            .flatten()
            .fold(0.0f64, f64::max);
        l.paragraph(
            &format!(
                "Bars: what each site measured (green: enough, red: short), all on one scale from 0 to {} Mbit/s; the dark mark on each bar is what its planned users need.",
                crate::render::mbps(Some(scale))
            ),
            8.0,
            false,
            MARGIN,
            0.0,
        );
        for t in &r.throughput {
            l.paragraph(
                &format!(
                    "{} ({}): {}",
                    t.site,
                    status_word(t.status),
                    throughput_words(t)
                ),
                9.0,
                false,
                MARGIN,
                12.0,
            );
            l.bar(
                &format!("{} download", t.site),
                t.download_measured_mbps,
                t.download_needed_mbps,
                scale,
            );
            l.bar(
                &format!("{} upload", t.site),
                t.upload_measured_mbps,
                t.upload_needed_mbps,
                scale,
            );
            l.y -= 4.0;
        }
    }
    if !r.notes.is_empty() {
        l.heading("What the checks cannot see");
        for n in &r.notes {
            l.paragraph(&format!("• {n}"), 9.0, false, MARGIN, 10.0);
        }
    }
    l.heading("Sources");
    for s in &e.sources {
        l.paragraph(s, 8.5, false, MARGIN, 0.0);
    }
    l.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let text = "allow app.vendor.example in the web filter (seen: e2guardian) — blocked at lincoln, roosevelt and washington";
        let lines = wrap(text, 10.0, false, 200.0);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(
                width(l, 10.0, false) <= 200.0,
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        let joined: Vec<u8> = lines.join(&b' ');
        assert_eq!(joined, win_ansi(text));
        // A word longer than the line is cut rather than overflowing.
        let long = wrap(&"x".repeat(200), 10.0, false, 100.0);
        assert!(long.len() > 1 && long.iter().all(|l| width(l, 10.0, false) <= 100.0));
    }

    #[test]
    fn signs_map_to_win_ansi() {
        assert_eq!(win_ansi("a — b ≥ 2 × 3"), b"a \x97 b >= 2 \xd7 3".to_vec());
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }
}
