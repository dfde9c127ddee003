"""Chat: rooms, direct conversations, messages, unread, typing and catch-up."""
