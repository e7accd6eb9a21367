"""The Experiments tab's sweeps: each point of a sweep (`python -m sweeps`) as a row under its
baseline. `rows` is data and text (no Textual), `widgets` the panel that shows them."""
