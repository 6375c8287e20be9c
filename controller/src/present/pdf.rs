//! The printable recommendation: an A4 PDF for the committee packet, written with
//! `pdf-writer` and the standard Helvetica fonts (every PDF reader has them, so nothing is
//! embedded). The first page carries the verdict and the conditions as a numbered table; the
//! site × requirement and model × requirement matrices follow as ruled tables, split into
//! column groups (first column repeated) when more sites or requirements exist than fit across
//! the page, and across pages (header row repeated) when more rows exist than fit down it.
//! Text is laid out here: words are wrapped with Helvetica's own character widths.
//!
//! Layout: the text helpers (`win_ansi`, `width`, `wrap`), `Layout` (pages, paragraphs,
//! ruled tables, the capacity bars), `Grid` (a status matrix cut into column groups), and one
//! function per section, listed in order by [`recommendation_pdf`].

use std::collections::BTreeSet;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::present::render::{short, throughput_words};
use crate::types::{Decision, Party};
use fitcheck_core::evaluate::Status;
use fitcheck_core::requirement::RequirementId;
use fitcheck_engine::{Cell, Condition, FleetVerdict, Recommendation};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// The lowest a line may sit: below it is the footer.
const BOTTOM: f32 = MARGIN + 20.0;

/// A colour: red, green, blue, each 0 to 1.
type Rgb = (f32, f32, f32);

const INK: Rgb = (0.1, 0.1, 0.12);
const MUTED: Rgb = (0.4, 0.4, 0.45);
const RULE: Rgb = (0.6, 0.6, 0.64);
const HEADER_FILL: Rgb = (0.88, 0.89, 0.92);

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126, from Adobe's AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// WinAnsi's ellipsis, which ends a header cut short.
const ELLIPSIS: u8 = 0x85;

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
            '…' => out.push(ELLIPSIS),
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
        .map(|&b| match b {
            32..=126 => u32::from(HELVETICA[usize::from(b - 32)]),
            0x97 | ELLIPSIS => 1000,
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
                // Rather after a dot, dash, underscore, slash or bracket, where requirement
                // ids and addresses read as parts, if that keeps at least half the line.
                if let Some(p) = line[..cut].iter().rposition(|b| b"._-/[(".contains(b))
                    && p + 1 >= cut.div_ceil(2)
                {
                    cut = p + 1;
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

/// [`wrap`], but at most `max_lines` lines; text cut off ends the last one in an ellipsis.
fn wrap_clipped(text: &str, style: Style, max: f32, max_lines: usize) -> (Vec<Vec<u8>>, bool) {
    let mut lines = wrap(text, style.size, style.bold, max);
    if lines.len() <= max_lines {
        return (lines, false);
    }
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        while !last.is_empty() && width(last, style.size, style.bold) + style.size > max {
            last.pop();
        }
        last.push(ELLIPSIS);
    }
    (lines, true)
}

/// How a run of text looks.
#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    rgb: Rgb,
}

impl Style {
    const BODY: Style = Style {
        size: 8.5,
        bold: false,
        rgb: INK,
    };
    const LABEL: Style = Style {
        size: 8.5,
        bold: true,
        rgb: INK,
    };
    const HEAD: Style = Style {
        size: 7.5,
        bold: true,
        rgb: INK,
    };
    const SMALL: Style = Style {
        size: 7.0,
        bold: false,
        rgb: MUTED,
    };
}

/// About what a table's legend, header and first row take: kept with its heading.
const TABLE_START: f32 = 70.0;

/// Line height as a multiple of the font size, in tables.
const LEADING: f32 = 1.25;
/// Room between a cell's rules and its text.
const PAD: f32 = 3.5;

/// One line of a table cell, already wrapped to its column.
struct Line {
    bytes: Vec<u8>,
    style: Style,
}

/// One cell of a table: lines wrapped to its column, on an optional background.
struct TableCell {
    lines: Vec<Line>,
    fill: Option<Rgb>,
}

impl TableCell {
    fn new() -> TableCell {
        TableCell {
            lines: Vec::new(),
            fill: None,
        }
    }

    fn fill(mut self, rgb: Rgb) -> TableCell {
        self.fill = Some(rgb);
        self
    }

    /// Adds `text`, wrapped to a column `column_w` wide.
    fn text(self, text: &str, style: Style, column_w: f32) -> TableCell {
        self.clipped(text, style, column_w, usize::MAX)
    }

    /// Adds `text` wrapped to at most `max_lines` lines.
    fn clipped(mut self, text: &str, style: Style, column_w: f32, max_lines: usize) -> TableCell {
        let (lines, _) = wrap_clipped(text, style, column_w - 2.0 * PAD, max_lines);
        self.lines
            .extend(lines.into_iter().map(|bytes| Line { bytes, style }));
        self
    }

    fn height(&self) -> f32 {
        2.0 * PAD
            + self
                .lines
                .iter()
                .map(|l| l.style.size * LEADING)
                .sum::<f32>()
    }
}

fn row_height(cells: &[TableCell]) -> f32 {
    cells.iter().map(TableCell::height).fold(0.0, f32::max)
}

/// A ruled table. The header row is drawn again on every page the table runs onto, under
/// `caption`.
struct Table {
    caption: String,
    widths: Vec<f32>,
    header: Vec<TableCell>,
    rows: Vec<Vec<TableCell>>,
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
        if self.y - needed < BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, y: f32, bytes: &[u8], style: Style) {
        let font = if style.bold { Name(b"F2") } else { Name(b"F1") };
        let (r, g, b) = style.rgb;
        let c = self.page();
        c.set_fill_rgb(r, g, b);
        c.begin_text();
        c.set_font(font, style.size);
        c.next_line(x, y);
        c.show(Str(bytes));
        c.end_text();
    }

    /// A wrapped paragraph; `indent` shifts the lines after the first (hanging indent).
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, x: f32, indent: f32) {
        self.styled(
            text,
            Style {
                size,
                bold,
                rgb: INK,
            },
            x,
            indent,
        );
    }

    fn styled(&mut self, text: &str, style: Style, x: f32, indent: f32) {
        let leading = style.size * 1.35;
        let lines = wrap(text, style.size, style.bold, TEXT_W - (x - MARGIN) - indent);
        for (i, line) in lines.iter().enumerate() {
            self.room(leading);
            self.y -= leading;
            let at = if i == 0 { x } else { x + indent };
            self.text_at(at, self.y, line, style);
        }
    }

    fn heading(&mut self, text: &str) {
        self.heading_kept(text, 0.0);
    }

    /// A heading kept on one page with the `keep` points that follow it (a table's header
    /// and first row), never alone at the foot of a page.
    fn heading_kept(&mut self, text: &str, keep: f32) {
        self.room(40.0 + keep);
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
        let white = Style {
            size: 16.0,
            bold: true,
            rgb: (1.0, 1.0, 1.0),
        };
        self.text_at(MARGIN + 12.0, y + 11.0, &text, white);
    }

    /// A ruled table, its header row first and again at the top of every page it runs onto.
    fn table(&mut self, t: &Table) {
        let header_h = row_height(&t.header);
        let first_h = t.rows.first().map_or(0.0, |r| row_height(r));
        // Never a header alone at the foot of a page.
        self.room(header_h + first_h + 4.0);
        self.gap(4.0);
        self.row(&t.widths, &t.header);
        let mut rows_on_page = 0;
        for row in &t.rows {
            if self.y - row_height(row) < BOTTOM && rows_on_page > 0 {
                self.new_page();
                self.y -= 10.0;
                let caption = win_ansi(&format!("{} (continued)", t.caption));
                self.text_at(MARGIN, self.y, &caption, Style::SMALL);
                self.y -= 4.0;
                self.row(&t.widths, &t.header);
                rows_on_page = 0;
            }
            self.row(&t.widths, row);
            rows_on_page += 1;
        }
    }

    /// One table row at the current position: backgrounds, then rules, then text, so no
    /// background covers a neighbour's rule.
    fn row(&mut self, widths: &[f32], cells: &[TableCell]) {
        if cells.is_empty() {
            return;
        }
        let top = self.y;
        let h = row_height(cells);
        let c = self.page();
        let mut x = MARGIN;
        for (cell, w) in cells.iter().zip(widths) {
            if let Some((r, g, b)) = cell.fill {
                c.set_fill_rgb(r, g, b);
                c.rect(x, top - h, *w, h);
                c.fill_nonzero();
            }
            x += w;
        }
        c.set_stroke_rgb(RULE.0, RULE.1, RULE.2);
        c.set_line_width(0.5);
        let mut x = MARGIN;
        for w in widths.iter().take(cells.len()) {
            c.rect(x, top - h, *w, h);
            x += w;
        }
        c.stroke();
        let mut x = MARGIN;
        for (cell, w) in cells.iter().zip(widths) {
            let mut line_top = top - PAD;
            for line in &cell.lines {
                let baseline = line_top - line.style.size * 0.95;
                self.text_at(x + PAD, baseline, &line.bytes, line.style);
                line_top -= line.style.size * LEADING;
            }
            x += w;
        }
        self.y = top - h;
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
        let label_style = Style {
            size: 8.5,
            bold: false,
            rgb: (0.2, 0.2, 0.2),
        };
        self.text_at(MARGIN + 12.0, self.y, &win_ansi(label), label_style);
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

/// The narrowest a status column may be: "Unknown" over "12/12" still fits.
const STATUS_MIN_W: f32 = 44.0;
/// The widest: a few columns are not spread thin across the page.
const STATUS_MAX_W: f32 = 84.0;
/// The least the first column (what the row is) keeps.
const LABEL_MIN_W: f32 = 140.0;

/// A status matrix: named rows, one cell per named column (a site, or a requirement).
struct Grid<'a> {
    heading: &'a str,
    /// The first column's header.
    corner: &'a str,
    /// What the columns are, plural ("sites").
    kind: &'a str,
    columns: Vec<&'a str>,
    rows: Vec<GridRow<'a>>,
}

struct GridRow<'a> {
    label: String,
    detail: String,
    /// One per column; `None` where nothing was measured.
    cells: Vec<Option<&'a Cell>>,
}

/// How many status columns stand beside the first column in each column group, and how wide
/// each is: as many as fit, spread evenly over the groups so the last is not a stub.
fn column_groups(columns: usize) -> (usize, f32) {
    let fit = (((TEXT_W - LABEL_MIN_W) / STATUS_MIN_W) as usize).max(1);
    let groups = columns.div_ceil(fit).max(1);
    let per = columns.div_ceil(groups).max(1);
    let w = ((TEXT_W - LABEL_MIN_W) / per as f32).min(STATUS_MAX_W);
    (per, w)
}

/// A status cell: the word, and how many devices had that result of how many reported.
fn status_cell(cell: Option<&Cell>, column_w: f32) -> TableCell {
    let Some(c) = cell else {
        return TableCell::new().text("—", Style::SMALL, column_w);
    };
    let total = c.pass + c.warn + c.fail + c.unknown;
    let (word, n, fill, ink) = match c.status {
        Status::Pass => ("Pass", c.pass, (0.87, 0.95, 0.89), (0.06, 0.36, 0.16)),
        Status::Warn => ("Warn", c.warn, (1.0, 0.93, 0.78), (0.52, 0.32, 0.0)),
        Status::Fail => ("Fail", c.fail, (0.98, 0.85, 0.85), (0.62, 0.08, 0.08)),
        Status::Unknown => ("Unknown", c.unknown, (0.92, 0.92, 0.94), (0.3, 0.32, 0.38)),
    };
    let style = Style {
        size: 7.5,
        bold: c.status != Status::Pass,
        rgb: ink,
    };
    TableCell::new()
        .fill(fill)
        .text(&format!("{word} {n}/{total}"), style, column_w)
}

impl Layout {
    /// A status matrix as one ruled table per column group, each repeating the first column.
    fn grid(&mut self, g: &Grid) {
        let n = g.columns.len();
        let (per, col_w) = column_groups(n);
        let label_w = TEXT_W - per as f32 * col_w;
        for start in (0..n).step_by(per) {
            let end = (start + per).min(n);
            let caption = if n > per {
                let part = format!("{} {}–{end} of {n}", g.kind, start + 1);
                self.gap(4.0);
                let style = Style {
                    size: 8.0,
                    bold: true,
                    rgb: MUTED,
                };
                self.styled(&format!("{}: {part}", g.heading), style, MARGIN, 0.0);
                format!("{}, {part}", g.heading)
            } else {
                g.heading.to_owned()
            };
            let mut widths = vec![label_w];
            widths.extend(std::iter::repeat_n(col_w, end - start));
            let mut header =
                vec![
                    TableCell::new()
                        .fill(HEADER_FILL)
                        .text(g.corner, Style::HEAD, label_w),
                ];
            header.extend(g.columns[start..end].iter().map(|name| {
                TableCell::new()
                    .fill(HEADER_FILL)
                    .clipped(name, Style::HEAD, col_w, 3)
            }));
            let rows = g
                .rows
                .iter()
                .map(|row| {
                    let mut cells = vec![
                        TableCell::new()
                            .text(&row.label, Style::LABEL, label_w)
                            .text(&row.detail, Style::SMALL, label_w),
                    ];
                    cells.extend(row.cells[start..end].iter().map(|c| status_cell(*c, col_w)));
                    cells
                })
                .collect();
            self.table(&Table {
                caption,
                widths,
                header,
                rows,
            });
            self.gap(6.0);
        }
    }
}

/// The recommendation as a PDF document: the verdict and the conditions on the first page,
/// then why, the proposal, the evidence by site and by model, and the capacity chart.
pub fn recommendation_pdf(r: &Recommendation) -> Vec<u8> {
    recommendation_pdf_decided(r, None)
}

/// [`recommendation_pdf`], with the committee's decision after the sources where any party
/// has decided.
pub fn recommendation_pdf_decided(r: &Recommendation, decision: Option<&Decision>) -> Vec<u8> {
    let mut l = Layout::new(format!("fitcheck recommendation {}", r.evaluation.id));
    title(&mut l, r);
    conditions(&mut l, r);
    blockers_and_gaps(&mut l, r);
    proposal(&mut l, r);
    coverage(&mut l, r);
    site_matrix(&mut l, r);
    model_matrix(&mut l, r);
    capacity_chart(&mut l, r);
    data_section(&mut l, r);
    notes(&mut l, r);
    condition_evidence(&mut l, r);
    sources(&mut l, r);
    if let Some(d) = decision.filter(|d| !d.history.is_empty()) {
        decision_section(&mut l, d);
    }
    l.finish()
}

/// The committee's decision: each party's standing decision, by whom, when, and its note.
fn decision_section(l: &mut Layout, d: &Decision) {
    l.heading("Committee decision");
    let status = if d.approved {
        "Approved by Business, Curriculum and Technology."
    } else {
        "Not approved: a product needs the approval of Business, Curriculum and Technology."
    };
    l.paragraph(status, 9.5, true, MARGIN, 0.0);
    for party in Party::ALL {
        let line = match d.approvals.iter().find(|a| a.party == party) {
            Some(a) => {
                let basis = a.recommendation.as_ref().map_or(String::new(), |r| {
                    format!(
                        " (based on the recommendation of {}: {})",
                        r.generated_at, r.verdict
                    )
                });
                let note = if a.note.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", a.note)
                };
                format!(
                    "{}: {} by {} at {}{basis}{note}",
                    party.words(),
                    a.outcome.words(),
                    a.decided_by,
                    a.decided_at
                )
            }
            None => format!("{}: not decided", party.words()),
        };
        l.paragraph(&line, 9.0, false, MARGIN, 0.0);
    }
}

/// The Data Projects Form: the vendor's data needs, the district's export against them, the
/// data actions, and the sign-off lines for the SIS liaison and the data privacy officer.
pub fn data_form(r: &Recommendation) -> Option<Vec<u8>> {
    let d = r.data.as_ref()?;
    let e = &r.evaluation;
    let mut l = Layout::new(format!("fitcheck data projects form {}", e.id));
    l.paragraph(
        &format!("{} — Data Projects Form", e.product),
        20.0,
        true,
        MARGIN,
        0.0,
    );
    l.paragraph(
        &format!("{} — {}", e.vendor, e.title),
        11.0,
        false,
        MARGIN,
        0.0,
    );
    l.gap(6.0);
    data_section(&mut l, r);
    if !d.sources.is_empty() {
        l.heading("Vendor's specification");
        for s in &d.sources {
            l.paragraph(s, 8.5, false, MARGIN, 0.0);
        }
    }
    l.heading("Sign-off");
    for who in ["SIS liaison", "Data privacy officer"] {
        l.gap(14.0);
        l.paragraph(
            &format!("{who}:  name ____________________________   signature ____________________________   date ______________"),
            9.0,
            false,
            MARGIN,
            0.0,
        );
    }
    Some(l.finish())
}

/// A two-column table of labelled facts.
fn facts_table(l: &mut Layout, caption: &str, facts: &[(&str, String)]) {
    let label_w = 120.0;
    let value_w = TEXT_W - label_w;
    let rows = facts
        .iter()
        .map(|(label, value)| {
            vec![
                TableCell::new()
                    .fill(HEADER_FILL)
                    .text(label, Style::HEAD, label_w),
                TableCell::new().text(value, Style::BODY, value_w),
            ]
        })
        .collect();
    l.table(&Table {
        caption: caption.to_owned(),
        widths: vec![label_w, value_w],
        header: Vec::new(),
        rows,
    });
}

/// The data files: what the vendor takes, each element against the district's export, what
/// the export would send beyond, and the data actions.
fn data_section(l: &mut Layout, r: &Recommendation) {
    let Some(d) = &r.data else {
        return;
    };
    l.heading_kept("Data files", TABLE_START);
    l.paragraph(
        &format!("{}. {}", d.status.words(), d.summary),
        9.5,
        false,
        MARGIN,
        0.0,
    );
    l.gap(4.0);
    data_facts(l, d);
    data_elements(l, d);
    data_lists(l, d, r);
}

/// The vendor's method and endpoint, the export, the transfer check, the agreement.
fn data_facts(l: &mut Layout, d: &fitcheck_engine::DataSection) {
    let mut facts: Vec<(&str, String)> = vec![(
        "Method",
        format!("{} {}", d.method, d.versions.join(" or "))
            .trim()
            .to_owned(),
    )];
    for (label, value) in [
        ("Delivery", &d.delivery),
        ("Schedule", &d.schedule),
        ("Transfer endpoint", &d.endpoint),
        ("Vendor contact", &d.contact),
        ("Vendor's note", &d.note),
    ] {
        if let Some(v) = value {
            facts.push((label, v.clone()));
        }
    }
    if let Some(x) = &d.export {
        facts.push((
            "District export",
            format!(
                "{}, OneRoster {}, read {}",
                x.source_system,
                x.oneroster_version.as_deref().unwrap_or("?"),
                x.generated_at
            ),
        ));
    }
    if let Some(t) = &d.transfer {
        let mut words = format!("{}: {}", status_word(t.status), t.observed);
        for m in &t.machines {
            words.push_str(&format!("; {} — {}", m.site, m.observed));
        }
        facts.push(("Transfer check", words));
    }
    facts.push((
        "Signed Exhibit B",
        if d.dpa_recorded {
            "recorded"
        } else {
            "not recorded"
        }
        .to_owned(),
    ));
    facts_table(l, "Data needs", &facts);
}

/// Each element against the export, as a ruled table.
fn data_elements(l: &mut Layout, d: &fitcheck_engine::DataSection) {
    if !d.elements.is_empty() {
        let widths = vec![118.0, 62.0, 54.0, 105.0, 118.0, 38.0];
        let header = ["Element", "Needed", "State", "Filled", "Exhibit B", "DPA"]
            .iter()
            .zip(&widths)
            .map(|(h, w)| TableCell::new().fill(HEADER_FILL).text(h, Style::HEAD, *w))
            .collect();
        let rows = d
            .elements
            .iter()
            .map(|e| {
                let need = format!(
                    "{}{}",
                    if e.required { "required" } else { "optional" },
                    if e.roles.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", e.roles.join(", "))
                    }
                );
                let category = match (&e.category, &e.exhibit_b) {
                    (Some(c), Some(x)) => {
                        format!("{c}: {x}{}", if e.sensitive { " (sensitive)" } else { "" })
                    }
                    _ => "—".to_owned(),
                };
                let dpa = match e.dpa_covered {
                    Some(true) => "covered",
                    Some(false) => "NOT covered",
                    None => "—",
                };
                let state = TableCell::new();
                let state = if matches!(e.status, fitcheck_engine::ElementStatus::Met) {
                    state
                } else {
                    state.fill((1.0, 0.93, 0.78))
                };
                let label = match &e.name {
                    Some(n) => format!("{n} ({})", e.source),
                    None => e.source.clone(),
                };
                vec![
                    TableCell::new().text(&label, Style::BODY, widths[0]),
                    TableCell::new().text(&need, Style::BODY, widths[1]),
                    state.text(e.status.words(), Style::LABEL, widths[2]),
                    TableCell::new().text(
                        &crate::present::render::fill_words(e),
                        Style::BODY,
                        widths[3],
                    ),
                    TableCell::new().text(&category, Style::BODY, widths[4]),
                    TableCell::new().text(dpa, Style::BODY, widths[5]),
                ]
            })
            .collect();
        l.table(&Table {
            caption: "Elements".to_owned(),
            widths,
            header,
            rows,
        });
    }
}

/// What is sent but not needed, and the data actions with their items.
fn data_lists(l: &mut Layout, d: &fitcheck_engine::DataSection, r: &Recommendation) {
    if !d.minimisation.is_empty() {
        l.heading("Sent but not needed");
        for x in &d.minimisation {
            l.paragraph(
                &format!(
                    "• {} {} ({} rows; {}: {}{})",
                    x.file,
                    x.column,
                    x.filled,
                    x.category,
                    x.exhibit_b,
                    if x.sensitive { ", sensitive" } else { "" }
                ),
                8.5,
                false,
                MARGIN,
                10.0,
            );
        }
    }
    let actions: Vec<&Condition> = r
        .conditions
        .iter()
        .filter(|c| crate::present::render::is_data(c))
        .collect();
    if !actions.is_empty() {
        l.heading("Data actions");
        for c in actions {
            l.paragraph(
                &format!(
                    "• {} — {}, {}",
                    c.action,
                    c.owner,
                    if c.required {
                        "required"
                    } else {
                        "recommended"
                    }
                ),
                8.5,
                false,
                MARGIN,
                10.0,
            );
            for i in &c.items {
                l.paragraph(&format!("– {i}"), 8.0, false, MARGIN, 22.0);
            }
        }
    }
}

fn title(l: &mut Layout, r: &Recommendation) {
    let e = &r.evaluation;
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
}

const NUMBER_W: f32 = 20.0;
const OWNER_W: f32 = 112.0;
const NEED_W: f32 = 66.0;
const ACTION_W: f32 = TEXT_W - NUMBER_W - OWNER_W - NEED_W;
/// Lines of report ids a condition's row shows; the rest are listed at the end.
const EVIDENCE_LINES: usize = 2;

/// The reports behind a condition, by their short ids.
fn evidence_words(c: &Condition) -> String {
    let ids: Vec<String> = c
        .evidence
        .iter()
        .map(|e| format!("{} ({})", short(&e.report_id), e.site))
        .collect();
    format!("evidence: {}", ids.join(", "))
}

/// Whether a condition's evidence is too long for its row.
fn evidence_cut(c: &Condition) -> bool {
    let (_, cut) = wrap_clipped(
        &evidence_words(c),
        Style::SMALL,
        ACTION_W - 2.0 * PAD,
        EVIDENCE_LINES,
    );
    cut
}

/// The conditions as a numbered checklist: what, who, and whether the product needs it.
fn conditions(l: &mut Layout, r: &Recommendation) {
    l.heading_kept("Conditions", TABLE_START);
    if r.conditions.is_empty() {
        l.paragraph("None: nothing needs to change.", 10.0, false, MARGIN, 0.0);
        return;
    }
    let widths = vec![NUMBER_W, ACTION_W, OWNER_W, NEED_W];
    let header = ["#", "Action", "Owner", "Need"]
        .iter()
        .zip(&widths)
        .map(|(h, w)| TableCell::new().fill(HEADER_FILL).text(h, Style::HEAD, *w))
        .collect();
    let rows = r
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut action = TableCell::new().text(&c.action, Style::BODY, ACTION_W);
            if !c.evidence.is_empty() {
                action = action.clipped(&evidence_words(c), Style::SMALL, ACTION_W, EVIDENCE_LINES);
            }
            let need = if c.required {
                TableCell::new().text("Required", Style::LABEL, NEED_W)
            } else {
                let style = Style {
                    rgb: MUTED,
                    ..Style::BODY
                };
                TableCell::new().text("Recommended", style, NEED_W)
            };
            vec![
                TableCell::new().text(&format!("{}", i + 1), Style::BODY, NUMBER_W),
                action,
                TableCell::new().text(
                    &format!("{} ({})", c.owner, c.fix.words()),
                    Style::BODY,
                    OWNER_W,
                ),
                need,
            ]
        })
        .collect();
    l.table(&Table {
        caption: "Conditions".to_owned(),
        widths,
        header,
        rows,
    });
}

fn blockers_and_gaps(l: &mut Layout, r: &Recommendation) {
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
}

/// What was proposed, by whom, and what was checked, as label and value.
fn proposal(l: &mut Layout, r: &Recommendation) {
    let e = &r.evaluation;
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
    l.heading_kept("The proposal", TABLE_START);
    facts_table(l, "The proposal", &facts);
}

fn coverage(l: &mut Layout, r: &Recommendation) {
    if r.coverage.is_empty() {
        return;
    }
    l.heading_kept("Coverage", TABLE_START);
    let figure_w = 88.0;
    let site_w = TEXT_W - 3.0 * figure_w;
    let widths = vec![site_w, figure_w, figure_w, figure_w];
    let header = ["Site", "Agents in scope", "Reported", "Enough to judge"]
        .iter()
        .zip(&widths)
        .map(|(h, w)| TableCell::new().fill(HEADER_FILL).text(h, Style::HEAD, *w))
        .collect();
    let rows = r
        .coverage
        .iter()
        .map(|c| {
            let enough = if c.enough {
                TableCell::new().text("yes", Style::BODY, figure_w)
            } else {
                TableCell::new()
                    .fill((1.0, 0.93, 0.78))
                    .text("no", Style::LABEL, figure_w)
            };
            vec![
                TableCell::new().text(&c.site, Style::BODY, site_w),
                TableCell::new().text(&c.agents.to_string(), Style::BODY, figure_w),
                TableCell::new().text(&c.devices_reported.to_string(), Style::BODY, figure_w),
                enough,
            ]
        })
        .collect();
    l.table(&Table {
        caption: "Coverage".to_owned(),
        widths,
        header,
        rows,
    });
}

const CELL_LEGEND: &str = "Each cell gives the result and how many of the devices that reported had it (Fail 2/3: two of three failed); — where none reported.";

/// Site × network requirement, the sites in the evaluation's order.
fn site_matrix(l: &mut Layout, r: &Recommendation) {
    if r.matrix.is_empty() {
        return;
    }
    // The evaluation's sites in its order, then any other site a cell names.
    let mut sites: Vec<&str> = r.coverage.iter().map(|c| c.site.as_str()).collect();
    for row in &r.matrix {
        for site in row.sites.keys() {
            if !sites.contains(&site.as_str()) {
                sites.push(site);
            }
        }
    }
    let rows = r
        .matrix
        .iter()
        .map(|row| GridRow {
            label: format!(
                "{}{}",
                row.title,
                if row.critical { "" } else { " (optional)" }
            ),
            detail: format!("{} · expected {}", row.requirement, row.expected),
            cells: sites.iter().map(|s| row.sites.get(*s)).collect(),
        })
        .collect();
    l.heading_kept("Network requirements by site", TABLE_START);
    l.styled(CELL_LEGEND, Style::SMALL, MARGIN, 0.0);
    l.grid(&Grid {
        heading: "Network requirements by site",
        corner: "Requirement",
        kind: "sites",
        columns: sites,
        rows,
    });
}

/// Device model × device requirement, then what the failing models showed.
fn model_matrix(l: &mut Layout, r: &Recommendation) {
    if r.device_models.is_empty() {
        return;
    }
    let requirements: BTreeSet<&RequirementId> = r
        .device_models
        .iter()
        .flat_map(|m| m.requirements.keys())
        .collect();
    let rows = r
        .device_models
        .iter()
        .map(|m| {
            let at = if m.sites.len() > 4 {
                format!("{} sites", m.sites.len())
            } else {
                m.sites.join(", ")
            };
            let devices = if m.devices == 1 { "device" } else { "devices" };
            GridRow {
                label: m.model.clone(),
                detail: format!("{} {devices} at {at}", m.devices),
                cells: requirements
                    .iter()
                    .map(|id| m.requirements.get(*id))
                    .collect(),
            }
        })
        .collect();
    let names: Vec<String> = requirements.iter().map(|r| r.to_string()).collect();
    l.heading_kept("Devices by model", TABLE_START);
    l.styled(CELL_LEGEND, Style::SMALL, MARGIN, 0.0);
    l.grid(&Grid {
        heading: "Devices by model",
        corner: "Model",
        kind: "requirements",
        columns: names.iter().map(String::as_str).collect(),
        rows,
    });
    for m in &r.device_models {
        let failing = crate::present::render::shortfalls(m);
        if !failing.is_empty() {
            l.paragraph(
                &format!("• {} — {}", m.model, failing.join("; ")),
                9.0,
                false,
                MARGIN,
                10.0,
            );
        }
    }
}

fn capacity_chart(l: &mut Layout, r: &Recommendation) {
    if r.throughput.is_empty() {
        return;
    }
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
            crate::present::render::mbps(Some(scale))
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

fn notes(l: &mut Layout, r: &Recommendation) {
    if !r.notes.is_empty() {
        l.heading("What the checks cannot see");
        for n in &r.notes {
            l.paragraph(&format!("• {n}"), 9.0, false, MARGIN, 10.0);
        }
    }
}

/// The full list of reports behind each condition whose row had room for only some.
fn condition_evidence(l: &mut Layout, r: &Recommendation) {
    let cut: Vec<(usize, &Condition)> = r
        .conditions
        .iter()
        .enumerate()
        .filter(|(_, c)| evidence_cut(c))
        .collect();
    if cut.is_empty() {
        return;
    }
    l.heading("Evidence behind the conditions");
    for (i, c) in cut {
        l.paragraph(
            &format!("{}. {}", i + 1, evidence_words(c)),
            8.5,
            false,
            MARGIN,
            12.0,
        );
    }
}

fn sources(l: &mut Layout, r: &Recommendation) {
    l.heading("Sources");
    for s in &r.evaluation.sources {
        l.paragraph(s, 8.5, false, MARGIN, 0.0);
    }
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
    fn a_long_id_breaks_after_its_punctuation() {
        let lines = wrap("device.ram_min_gib", 7.5, true, 50.0);
        assert_eq!(lines, vec![b"device.ram_".to_vec(), b"min_gib".to_vec()]);
    }

    #[test]
    fn a_clipped_header_ends_in_an_ellipsis_within_its_width() {
        let long = "Washington Heights Elementary School Annex";
        let (lines, cut) = wrap_clipped(long, Style::HEAD, 40.0, 3);
        assert!(cut);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2].last(), Some(&ELLIPSIS));
        assert!(lines.iter().all(|l| width(l, 7.5, true) <= 40.0));
        let (lines, cut) = wrap_clipped("lincoln", Style::HEAD, 40.0, 3);
        assert!(!cut);
        assert_eq!(lines, vec![b"lincoln".to_vec()]);
    }

    #[test]
    fn column_groups_fit_the_page_and_share_the_columns_out() {
        for n in 1..=80 {
            let (per, w) = column_groups(n);
            assert!((STATUS_MIN_W..=STATUS_MAX_W).contains(&w), "{n}: {w}");
            assert!(LABEL_MIN_W + per as f32 * w <= TEXT_W + 0.01, "{n}");
            // The last group is at most one column per group short of the others: no stub.
            let groups = n.div_ceil(per);
            assert!(
                n - (groups - 1) * per + groups > per,
                "{n}: {per} per group"
            );
        }
        assert_eq!(column_groups(2), (2, STATUS_MAX_W));
        assert_eq!(column_groups(30).0, 8);
    }

    #[test]
    fn signs_map_to_win_ansi() {
        assert_eq!(win_ansi("a — b ≥ 2 × 3"), b"a \x97 b >= 2 \xd7 3".to_vec());
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }
}
