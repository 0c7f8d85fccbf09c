"""Sending messages to people."""
