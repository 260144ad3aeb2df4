"""What a prompt is made from: ``{{name}}`` interpolation, values, attachments, conversations, cell errors."""
