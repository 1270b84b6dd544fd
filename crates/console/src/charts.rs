//! Bar charts drawn on the server as SVG (no script), each with its numbers in
//! a table beside it, so a chart reads without JavaScript and without sight.

use maud::{html, Markup};

/// One bar: its label, its value, and where it links (the filtered list).
#[derive(Debug, Clone)]
pub struct Bar {
    /// What it counts.
    pub label: String,
    /// How many.
    pub value: u64,
    /// The page that lists them, if any.
    pub link: Option<String>,
}

const WIDTH: u32 = 380;
const ROW: u32 = 22;
const LABEL: u32 = 150;

/// A horizontal bar chart with a caption, and the same numbers as a table.
pub fn bar_chart(title: &str, bars: &[Bar]) -> Markup {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) as u32 + 4;
    let span = WIDTH - LABEL - 40;
    html! {
        section.card {
            h2 { (title) }
            svg role="img" aria-label=(title) width=(WIDTH) height=(height)
                viewBox=(format!("0 0 {WIDTH} {height}")) xmlns="http://www.w3.org/2000/svg" {
                @for (i, bar) in bars.iter().enumerate() {
                    @let y = i as u32 * ROW + 2;
                    @let w = ((bar.value as f64 / max as f64) * span as f64).round() as u32;
                    text x="0" y=(y + 14) { (bar.label) }
                    @match &bar.link {
                        Some(link) => a href=(link) aria-label=(format!("{}: {}", bar.label, bar.value)) {
                            rect.bar x=(LABEL) y=(y + 3) width=(w.max(1)) height=(ROW - 8) {}
                        },
                        None => rect.bar x=(LABEL) y=(y + 3) width=(w.max(1)) height=(ROW - 8) {},
                    }
                    text x=(LABEL + w + 6) y=(y + 14) { (bar.value) }
                }
            }
            table {
                thead { tr { th scope="col" { "" } th scope="col" { "count" } } }
                tbody {
                    @for bar in bars {
                        tr {
                            th scope="row" {
                                @match &bar.link {
                                    Some(link) => a href=(link) aria-label=(format!("{}: {}", bar.label, bar.value)) { (bar.label) },
                                    None => (bar.label),
                                }
                            }
                            td { (bar.value) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_bar_and_a_row_per_value_and_escapes_labels() {
        let bars = vec![
            Bar {
                label: "issued".into(),
                value: 3,
                link: Some("/console/certificates?status=issued".into()),
            },
            Bar {
                label: "<script>".into(),
                value: 0,
                link: None,
            },
        ];
        let html = bar_chart("Requests by status", &bars).into_string();
        assert_eq!(html.matches("<rect").count(), 2, "{html}");
        assert_eq!(html.matches("<tr>").count(), 3, "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }
}
