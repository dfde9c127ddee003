"""Feedback from users to the people who run the site."""
