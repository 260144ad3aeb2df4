"""What is kept: the replay cache, spend and budget, the llm CLI's log, transcripts."""
