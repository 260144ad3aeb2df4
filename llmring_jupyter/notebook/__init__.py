"""What talks to IPython: the magics, the ``%llm`` commands, ``%llm fix``, the cell transform, chat()/map()."""
