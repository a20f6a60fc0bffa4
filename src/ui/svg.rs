//! A rendered screen (ratatui buffer) as SVG, for the pictures in `assets/`: the same cells the
//! terminal would show, each run of equally styled cells as one `<text>`.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const BG: &str = "#1e1e2e";
const FG: &str = "#cdd6f4";

fn hex(c: Color, default: &'static str) -> String {
    match c {
        Color::Reset => default.into(),
        Color::Black => "#45475a".into(),
        Color::Red | Color::LightRed => "#f38ba8".into(),
        Color::Green | Color::LightGreen => "#a6e3a1".into(),
        Color::Yellow | Color::LightYellow => "#f9e2af".into(),
        Color::Blue | Color::LightBlue => "#5b7bd5".into(),
        Color::Magenta | Color::LightMagenta => "#f5c2e7".into(),
        Color::Cyan | Color::LightCyan => "#94e2d5".into(),
        Color::Gray | Color::White => "#e6e9ef".into(),
        Color::DarkGray => "#7f849c".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(_) => default.into(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The buffer as a standalone SVG document.
pub fn render(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (f32::from(area.width) * CELL_W, f32::from(area.height) * CELL_H);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{BG}\"/>\n\
         <g font-family=\"DejaVu Sans Mono,Menlo,Consolas,monospace\" font-size=\"14\" xml:space=\"preserve\">\n"
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let cell = &buf[(x, y)];
            let style = (cell.fg, cell.bg, cell.modifier);
            let start = x;
            let mut text = String::new();
            while x < area.width {
                let c = &buf[(x, y)];
                if (c.fg, c.bg, c.modifier) != style {
                    break;
                }
                text.push_str(c.symbol());
                x += 1;
            }
            let (px, py) = (f32::from(start) * CELL_W, f32::from(y) * CELL_H);
            if style.1 != Color::Reset {
                out.push_str(&format!(
                    "<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{:.1}\" height=\"{CELL_H}\" fill=\"{}\"/>\n",
                    f32::from(x - start) * CELL_W,
                    hex(style.1, BG)
                ));
            }
            if text.trim().is_empty() {
                continue;
            }
            let bold = if style.2.contains(Modifier::BOLD) { " font-weight=\"bold\"" } else { "" };
            // Every glyph at its own cell's x, whatever the viewer's font advances.
            let xs: Vec<String> = (start..x)
                .filter(|cx| !buf[(*cx, y)].symbol().is_empty())
                .map(|cx| format!("{:.1}", f32::from(cx) * CELL_W))
                .collect();
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{:.1}\" fill=\"{}\"{bold}>{}</text>\n",
                xs.join(" "),
                py + CELL_H - 4.0,
                hex(style.0, FG),
                escape(&text)
            ));
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}
