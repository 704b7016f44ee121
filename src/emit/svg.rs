//! A small SVG renderer for flowcharts, used when Graphviz is not
//! installed. It draws each part of the chart (the decision, each setting's
//! route, the legend) as rows of nodes ranked by the longest path from the
//! part's first nodes, with straight edges. Graphviz draws better charts;
//! this one is readable and needs nothing installed.

use std::fmt::Write;

use super::dot::{Flowchart, Shape, WRAP, wrap};

const LINE: f64 = 14.0;
const CHAR: f64 = 6.6;
const ROW_GAP: f64 = 56.0;
const COL_GAP: f64 = 24.0;
const MARGIN: f64 = 24.0;

#[derive(Clone, Copy, Default)]
struct Place {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The flowchart as an SVG document.
pub fn render(chart: &Flowchart) -> String {
    let n = chart.nodes.len();
    let labels: Vec<Vec<String>> = chart.nodes.iter().map(|c| wrap(&c.label, WRAP)).collect();
    let mut place = vec![Place::default(); n];
    for (i, lines) in labels.iter().enumerate() {
        let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
        let (w, h) = (chars * CHAR + 24.0, lines.len() as f64 * LINE + 16.0);
        let (w, h) = match chart.nodes[i].shape {
            Shape::Question | Shape::Decision => (w * 1.5, h * 1.6),
            _ => (w.max(80.0), h),
        };
        place[i].w = w;
        place[i].h = h;
    }

    // Parts: the unclustered nodes, then each cluster.
    let title_lines = chart.title.split('\n').count() as f64;
    let mut y = MARGIN + title_lines * 20.0 + 10.0;
    let mut frames: Vec<(usize, f64, f64, f64, f64)> = Vec::new();
    let top: Vec<usize> = (0..n)
        .filter(|i| chart.nodes[*i].cluster.is_none())
        .collect();
    let (tw, th) = layout(chart, &top, &mut place, MARGIN, y);
    y += th + ROW_GAP;
    let mut x = MARGIN;
    let mut width = MARGIN + tw;
    let mut tallest: f64 = 0.0;
    for ci in 0..chart.clusters.len() {
        let members: Vec<usize> = (0..n)
            .filter(|i| chart.nodes[*i].cluster == Some(ci))
            .collect();
        if members.is_empty() {
            continue;
        }
        let (w, h) = layout(chart, &members, &mut place, x + 16.0, y + 34.0);
        let (fw, fh) = (w + 32.0, h + 50.0);
        frames.push((ci, x, y, fw, fh));
        x += fw + COL_GAP;
        tallest = tallest.max(fh);
        width = width.max(x);
    }
    // Centre the top part over what is below it.
    let shift = ((width - MARGIN - tw) / 2.0).max(0.0);
    for &i in &top {
        place[i].x += shift;
    }
    let height = y + tallest + MARGIN;
    let width = width + MARGIN;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif">"#
    );
    svg.push_str(concat!(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">"#,
        r##"<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>"##,
        "\n"
    ));
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (k, line) in chart.title.split('\n').enumerate() {
        let size = if k == 0 { 18 } else { 13 };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="{size}">{}</text>"#,
            width / 2.0,
            MARGIN + 14.0 + k as f64 * 20.0,
            xml(line)
        );
    }
    for (ci, fx, fy, fw, fh) in &frames {
        let _ = writeln!(
            svg,
            r##"<rect x="{fx:.1}" y="{fy:.1}" width="{fw:.1}" height="{fh:.1}" rx="8" fill="none" stroke="#999999"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="14">{}</text>"#,
            fx + fw / 2.0,
            fy + 22.0,
            xml(&chart.clusters[*ci])
        );
    }
    for e in &chart.edges {
        let (a, b) = (place[e.from], place[e.to]);
        let (x1, y1) = (a.x + a.w / 2.0, a.y + a.h);
        let (x2, y2) = if b.y > a.y {
            (b.x + b.w / 2.0, b.y)
        } else {
            // Upwards or sideways: into the target's side.
            (b.x + if b.x > a.x { 0.0 } else { b.w }, b.y + b.h / 2.0)
        };
        let dash = if e.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#555555"{dash} marker-end="url(#arrow)"/>"##
        );
        if !e.label.is_empty() {
            let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            for (k, line) in wrap(&e.label, WRAP).iter().enumerate() {
                let _ = writeln!(
                    svg,
                    r#"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="10" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"#,
                    my + k as f64 * 12.0,
                    xml(line)
                );
            }
        }
    }
    for (i, node) in chart.nodes.iter().enumerate() {
        let p = place[i];
        let _ = write!(svg, "<g>");
        if !node.tooltip.is_empty() {
            let _ = write!(svg, "<title>{}</title>", xml(&node.tooltip));
        }
        let style = format!(r##"fill="{}" stroke="#333333""##, node.fill);
        let (cx, cy) = (p.x + p.w / 2.0, p.y + p.h / 2.0);
        let _ = match node.shape {
            Shape::Start => write!(
                svg,
                r#"<ellipse cx="{cx:.1}" cy="{cy:.1}" rx="{:.1}" ry="{:.1}" {style}/>"#,
                p.w / 2.0,
                p.h / 2.0
            ),
            Shape::Question | Shape::Decision => write!(
                svg,
                r#"<polygon points="{cx:.1},{:.1} {:.1},{cy:.1} {cx:.1},{:.1} {:.1},{cy:.1}" {style}/>"#,
                p.y,
                p.x + p.w,
                p.y + p.h,
                p.x
            ),
            Shape::Level => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8" {style} stroke-width="2"/>"#,
                p.x, p.y, p.w, p.h
            ),
            Shape::Judgement => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8" {style} stroke-width="2" stroke-dasharray="6 4"/>"#,
                p.x, p.y, p.w, p.h
            ),
            Shape::Procedure => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {style} stroke-dasharray="6 4"/>"#,
                p.x, p.y, p.w, p.h
            ),
            Shape::Outcome => {
                let c = 8.0;
                write!(
                    svg,
                    r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" {style}/>"#,
                    p.x + c,
                    p.y,
                    p.x + p.w - c,
                    p.y,
                    p.x + p.w,
                    p.y + c,
                    p.x + p.w,
                    p.y + p.h - c,
                    p.x + p.w - c,
                    p.y + p.h,
                    p.x + c,
                    p.y + p.h,
                    p.x,
                    p.y + p.h - c,
                    p.x,
                    p.y + c
                )
            }
            Shape::Step | Shape::Note => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {style}/>"#,
                p.x, p.y, p.w, p.h
            ),
        };
        let lines = &labels[i];
        let first = cy - (lines.len() as f64 - 1.0) * LINE / 2.0 + 4.0;
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
                first + k as f64 * LINE,
                xml(line)
            );
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// Place `members` in rows from (`x`, `y`); returns the width and height.
fn layout(chart: &Flowchart, members: &[usize], place: &mut [Place], x: f64, y: f64) -> (f64, f64) {
    let inside = |i: usize| members.binary_search(&i).is_ok();
    let edges: Vec<(usize, usize)> = chart
        .edges
        .iter()
        .filter(|e| inside(e.from) && inside(e.to) && e.from != e.to)
        .map(|e| (e.from, e.to))
        .collect();
    // Rank: longest path, ignoring edges that close a cycle (found by a
    // depth-first search from the nodes in order).
    let mut state = vec![0u8; chart.nodes.len()];
    let mut forward: Vec<(usize, usize)> = Vec::new();
    let mut post: Vec<usize> = Vec::new();
    for &s in members {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some((v, k)) = stack.pop() {
            let out: Vec<usize> = edges.iter().filter(|e| e.0 == v).map(|e| e.1).collect();
            if k < out.len() {
                stack.push((v, k + 1));
                let w = out[k];
                match state[w] {
                    0 => {
                        forward.push((v, w));
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {}
                    _ => forward.push((v, w)),
                }
            } else {
                state[v] = 2;
                post.push(v);
            }
        }
    }
    let mut rank = vec![0usize; chart.nodes.len()];
    for &v in post.iter().rev() {
        for &(a, b) in forward.iter().filter(|e| e.0 == v) {
            rank[b] = rank[b].max(rank[a] + 1);
        }
    }
    let rows = members.iter().map(|i| rank[*i]).max().map_or(0, |r| r + 1);
    let mut width: f64 = 0.0;
    let mut top = y;
    let mut row_x: Vec<f64> = Vec::new();
    for r in 0..rows {
        let mut row: Vec<usize> = members.iter().copied().filter(|i| rank[*i] == r).collect();
        // Order by where the nodes above that lead here are.
        let centre = |i: usize, place: &[Place]| {
            let from: Vec<f64> = edges
                .iter()
                .filter(|e| e.1 == i && rank[e.0] < r)
                .map(|e| place[e.0].x + place[e.0].w / 2.0)
                .collect();
            if from.is_empty() {
                f64::MAX
            } else {
                from.iter().sum::<f64>() / from.len() as f64
            }
        };
        row.sort_by(|a, b| {
            centre(*a, place)
                .total_cmp(&centre(*b, place))
                .then(a.cmp(b))
        });
        let h = row.iter().map(|i| place[*i].h).fold(0.0, f64::max);
        let mut cx = x;
        for &i in &row {
            place[i].x = cx;
            place[i].y = top + (h - place[i].h) / 2.0;
            cx += place[i].w + COL_GAP;
        }
        row_x.push(cx - COL_GAP - x);
        width = width.max(cx - COL_GAP - x);
        top += h + ROW_GAP;
    }
    // Centre each row.
    for (r, row_width) in row_x.iter().enumerate() {
        let shift = (width - row_width) / 2.0;
        for &i in members.iter().filter(|i| rank[**i] == r) {
            place[i].x += shift;
        }
    }
    (width, (top - ROW_GAP - y).max(0.0))
}

/// Text for SVG: the five XML specials escaped, control characters dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
