"""llmring_jupyter: stream LLM answers into notebook cells."""
__version__ = "0.1.0"
