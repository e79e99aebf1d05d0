"""The Gradio chat for ``qa chat``."""
