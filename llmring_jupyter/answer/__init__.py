"""The answer engine: options, the session, streams, the agent loop, tools, schemas, background answers."""
