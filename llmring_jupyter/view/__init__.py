"""What the user sees live: the widget, the terminal, side-by-side columns."""
