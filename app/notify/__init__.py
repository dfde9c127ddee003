"""Notifications: who is told of what (app/notify/service.py: levels, mentions, the sender, who is
looking, what is read), and Web Push to their devices (app/notify/push*.py: VAPID, subscriptions
tied to their session, a delivery queue that survives restarts). A service above chat: it asks
chat who reads what and hears chat's signals; chat never imports it."""
