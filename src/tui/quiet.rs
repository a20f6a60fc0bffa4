//! A terminal backend that writes nothing for a frame that changes nothing.
//!
//! The app draws only when its state changed, but a change can leave the screen as it was (a
//! status judged again to what it was, a monitor round whose figures round to the same text).
//! ratatui then hands the backend an empty diff, and crossterm's backend still writes its
//! colour reset and hides the cursor again: 25 bytes a time, 100 bytes in 30 s at rest with 100
//! live customers. Here an empty frame writes nothing, and the cursor is hidden, shown or moved
//! only when that changes something on the screen.

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// `inner`, silent for frames without changes.
pub struct Quiet<B> {
    inner: B,
    /// Whether the terminal's cursor is hidden, when known.
    hidden: Option<bool>,
    /// Where the cursor was last put, while nothing has been drawn since.
    at: Option<Position>,
}

impl<B> Quiet<B> {
    /// Wraps `inner`; the cursor's state is unknown until the first frame sets it.
    pub fn new(inner: B) -> Self {
        Self { inner, hidden: None, at: None }
    }

    /// Someone else had the terminal (an editor): what it did to the cursor is not known.
    pub fn forget(&mut self) {
        self.hidden = None;
        self.at = None;
    }
}

impl<B: Backend> Backend for Quiet<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        // Drawing moves the terminal's cursor.
        self.at = None;
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.at = None;
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        if self.hidden != Some(true) {
            self.inner.hide_cursor()?;
            self.hidden = Some(true);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        if self.hidden != Some(false) {
            self.inner.show_cursor()?;
            self.hidden = Some(false);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        let position = position.into();
        if self.at != Some(position) {
            self.inner.set_cursor_position(position)?;
            self.at = Some(position);
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.at = None;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.at = None;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::widgets::Paragraph;

    /// Counts what reaches the terminal.
    #[derive(Default)]
    struct Recorder {
        cells: usize,
        cursor_calls: usize,
    }

    impl Backend for Recorder {
        type Error = std::io::Error;
        fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(&mut self, content: I) -> std::io::Result<()> {
            self.cells += content.count();
            Ok(())
        }
        fn hide_cursor(&mut self) -> std::io::Result<()> {
            self.cursor_calls += 1;
            Ok(())
        }
        fn show_cursor(&mut self) -> std::io::Result<()> {
            self.cursor_calls += 1;
            Ok(())
        }
        fn get_cursor_position(&mut self) -> std::io::Result<Position> {
            Ok(Position::ORIGIN)
        }
        fn set_cursor_position<P: Into<Position>>(&mut self, _: P) -> std::io::Result<()> {
            self.cursor_calls += 1;
            Ok(())
        }
        fn clear(&mut self) -> std::io::Result<()> {
            Ok(())
        }
        fn clear_region(&mut self, _: ClearType) -> std::io::Result<()> {
            Ok(())
        }
        fn size(&self) -> std::io::Result<Size> {
            Ok(Size::new(20, 2))
        }
        fn window_size(&mut self) -> std::io::Result<WindowSize> {
            Ok(WindowSize { columns_rows: Size::new(20, 2), pixels: Size::new(0, 0) })
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_frame_like_the_last_reaches_the_terminal_as_nothing() {
        let mut term = Terminal::new(Quiet::new(Recorder::default())).unwrap();
        let frame = |text: &'static str| move |f: &mut ratatui::Frame| f.render_widget(Paragraph::new(text), f.area());
        term.draw(frame("customers 100")).unwrap();
        let first = (term.backend().inner.cells, term.backend().inner.cursor_calls);
        assert!(first.0 > 0 && first.1 == 1, "{first:?}");
        term.draw(frame("customers 100")).unwrap();
        assert_eq!((term.backend().inner.cells, term.backend().inner.cursor_calls), first, "nothing changed");
        term.draw(frame("customers 101")).unwrap();
        assert_eq!(term.backend().inner.cells, first.0 + 1, "one cell changed: one cell drawn");
        assert_eq!(term.backend().inner.cursor_calls, 1, "the cursor stays hidden without being hidden again");
        // After an editor had the terminal, the cursor is hidden again with the next frame.
        term.backend_mut().forget();
        term.draw(frame("customers 101")).unwrap();
        assert_eq!(term.backend().inner.cursor_calls, 2);
    }

    #[test]
    fn a_shown_cursor_is_moved_again_only_after_something_was_drawn() {
        let mut term = Terminal::new(Quiet::new(Recorder::default())).unwrap();
        let frame = |text: &'static str| {
            move |f: &mut ratatui::Frame| {
                f.render_widget(Paragraph::new(text), f.area());
                f.set_cursor_position((3, 0));
            }
        };
        term.draw(frame("abc")).unwrap();
        let calls = term.backend().inner.cursor_calls;
        assert_eq!(calls, 2, "shown and placed");
        term.draw(frame("abc")).unwrap();
        assert_eq!(term.backend().inner.cursor_calls, calls, "the same frame: no cursor bytes");
        term.draw(frame("abd")).unwrap();
        assert_eq!(term.backend().inner.cursor_calls, calls + 1, "drawn: placed again");
    }
}
